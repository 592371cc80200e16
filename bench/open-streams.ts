import { Pool } from 'undici';
import { rssMegabytes } from './proc.ts';
import { sleep } from './stats.ts';
import { headersFor, sseEvents, streamBody, type Target } from './streams.ts';

/**
 * Memory with many streams open: opens `streams` slow streams on a ramp, holds them, reads the RSS
 * of the process under test, checks every stream is still receiving, then closes them all.
 */
export interface OpenStreamsOptions {
  streams: number;
  /** Padding of each stream's prompt, in KB (0: one line). */
  promptKb: number;
  rampStep: number;
  rampEveryMs: number;
  /** How often the upstream sends a chunk on a slow stream. */
  chunkMs: number;
  /** Processes whose RSS is read, by label. */
  pids: Record<string, number>;
  /** Slow streams the upstream holds open right now. */
  upstreamOpen: () => Promise<number>;
}

export interface OpenStreamsResult {
  streams: number;
  rssIdleMb: Record<string, number>;
  rssOpenMb: Record<string, number>;
  /** (open - idle) per 1,000 streams, for the first pid. */
  mbPer1000: number;
  rssAfterCloseMb: Record<string, number>;
  /** Streams that had a 200 and a first event when the RSS was read. */
  opened: number;
  answered200: number;
  /** Opened streams that had received nothing for 2.5 chunk intervals when the RSS was read. */
  stalled: number;
  errors: number;
  upstreamOpenAtPeak: number;
  /** Slow streams the upstream still held 10 s after the client closed them all (a leak if > 0). */
  upstreamOpenAfterClose: number;
  rampMs: number;
}

interface OpenStream {
  controller: AbortController;
  status: number | null;
  firstEventAt: number | null;
  lastEventAt: number | null;
  failed: boolean;
}

export async function holdOpenStreams(target: Target, options: OpenStreamsOptions): Promise<OpenStreamsResult> {
  const pool = new Pool(target.origin, { connections: options.streams + 16, pipelining: 1, bodyTimeout: 0, headersTimeout: 0 });
  const body = streamBody('bench-slow', options.promptKb);
  const headers = headersFor(target);
  const streams: OpenStream[] = [];
  const readRss = (): Record<string, number> => Object.fromEntries(Object.entries(options.pids).map(([label, pid]) => [label, rssMegabytes(pid)]));
  const rssIdleMb = readRss();

  const open = (): void => {
    const stream: OpenStream = { controller: new AbortController(), status: null, firstEventAt: null, lastEventAt: null, failed: false };
    streams.push(stream);
    pool
      .request({ path: '/v1/chat/completions', method: 'POST', headers, body, signal: stream.controller.signal })
      .then((response) => {
        stream.status = response.statusCode;
        const push = sseEvents(() => {
          stream.lastEventAt = Date.now();
          stream.firstEventAt ??= stream.lastEventAt;
        });
        response.body.on('data', push);
        response.body.on('error', () => {
          if (!stream.controller.signal.aborted) stream.failed = true;
        });
        response.body.on('end', () => {
          if (!stream.controller.signal.aborted) stream.failed = true; // a slow stream must outlive the hold
        });
      })
      .catch(() => {
        if (!stream.controller.signal.aborted) stream.failed = true;
      });
  };

  const rampStarted = Date.now();
  try {
    while (streams.length < options.streams) {
      for (let i = 0; i < options.rampStep && streams.length < options.streams; i++) open();
      await sleep(options.rampEveryMs);
    }
    const rampMs = Date.now() - rampStarted;
    // Wait for every first event (bounded), then hold long enough to see a stalled stream.
    const deadline = Date.now() + Math.max(5_000, 3 * options.chunkMs);
    while (streams.some((s) => s.firstEventAt === null && !s.failed) && Date.now() < deadline) await sleep(100);
    await sleep(3 * options.chunkMs);

    const rssOpenMb = readRss();
    const now = Date.now();
    const opened = streams.filter((s) => s.status === 200 && s.firstEventAt !== null);
    const stalled = opened.filter((s) => now - s.lastEventAt! > 2.5 * options.chunkMs).length;
    const upstreamOpenAtPeak = await options.upstreamOpen();

    // Close only streams whose answer the client has seen, until all have one (a gateway that queues
    // streams answers the next ones as these close), so "answered 200" is exact for the metering
    // check. Streams still unanswered after 30 s are cut and counted as errors.
    for (const stop = Date.now() + 30_000; ; await sleep(50)) {
      for (const stream of streams) if (stream.status !== null || stream.failed) stream.controller.abort();
      if (streams.every((s) => s.controller.signal.aborted) || Date.now() > stop) break;
    }
    const unanswered = streams.filter((s) => s.status === null && !s.failed).length;
    for (const stream of streams) stream.controller.abort();
    const answered200 = streams.filter((s) => s.status === 200).length;
    const errors = unanswered + streams.filter((s) => s.failed || (s.status !== null && s.status !== 200)).length;
    let upstreamOpenAfterClose = await options.upstreamOpen();
    for (const stop = Date.now() + 10_000; upstreamOpenAfterClose > 0 && Date.now() < stop; ) {
      await sleep(200);
      upstreamOpenAfterClose = await options.upstreamOpen();
    }
    const first = Object.keys(options.pids)[0]!;
    return {
      streams: options.streams,
      rssIdleMb,
      rssOpenMb,
      mbPer1000: ((rssOpenMb[first]! - rssIdleMb[first]!) / options.streams) * 1000,
      rssAfterCloseMb: readRss(),
      opened: opened.length,
      answered200,
      stalled,
      errors,
      upstreamOpenAtPeak,
      upstreamOpenAfterClose,
      rampMs,
    };
  } finally {
    for (const stream of streams) stream.controller.abort();
    await pool.destroy();
  }
}
