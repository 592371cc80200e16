import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { spread, type Spread } from './stats.ts';

/**
 * Streamed calls from a small undici client: time to first byte (request sent to the first SSE event
 * received), the gaps between consecutive events, and each chunk's delay from the upstream, over
 * streams run one after another and N at a time. The upstream paces its 50 chunks, so what a
 * gateway adds shows against direct.
 */
export interface Target {
  origin: string;
  apiKey: string | null;
}

export interface StreamRun {
  streams: number;
  concurrency: number;
  /** Including the warm-up streams: every 200 the client saw, for the metering check. */
  answered200: number;
  /** Measured streams that ended with a usage chunk and `data: [DONE]`. */
  complete: number;
  errors: number;
  ttfbUs: Spread;
  gapUs: Spread;
  /**
   * From the upstream writing a content chunk to the client receiving it. Unlike the gaps, it is
   * free of the upstream's timer jitter, so (minus direct's) it is what a gateway adds per chunk.
   */
  chunkDelayUs: Spread;
}

/** Events per stream whose arrival gaps are measured: the 50 content chunks. */
const MEASURED_EVENTS = 50;
/** The upstream's send time (process.hrtime, nanoseconds) inside a content chunk: "w12@<ns> ". */
const SENT_AT = /"content":"w\d+@(\d+) "/;

/** A streamed chat request; `padKb` lengthens its prompt by about that many KB of prose. */
export function streamBody(model: string, padKb = 0): string {
  const pad = padKb > 0 ? ` Context follows.${' The figures held steady across the quarter.'.repeat(Math.ceil((padKb * 1024) / 44))}` : '';
  return JSON.stringify({
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: `Count slowly from one to fifty.${pad}` }],
  });
}

export function headersFor(target: Target): Record<string, string> {
  return { 'content-type': 'application/json', ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) };
}

/** Splits an SSE byte stream into events, calling `onEvent` with each one's text as it completes. */
export function sseEvents(onEvent: (event: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      onEvent(pending.slice(0, end));
      pending = pending.slice(end + 2);
    }
  };
}

export async function measureStreams(target: Target, options: { streams: number; concurrency: number; model: string }): Promise<StreamRun> {
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1 });
  const body = streamBody(options.model);
  const headers = headersFor(target);
  const ttfb: number[] = [];
  const gaps: number[] = [];
  const transit: number[] = [];
  let answered200 = 0;
  let complete = 0;
  let errors = 0;
  let measuring = false;

  const one = async (): Promise<void> => {
    const started = performance.now();
    const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
    if (response.statusCode !== 200) {
      errors++;
      await response.body.dump();
      return;
    }
    answered200++;
    const arrivals: number[] = [];
    let events = 0;
    let sawUsage = false;
    let sawDone = false;
    let arrivedNs = 0n;
    const push = sseEvents((event) => {
      events++;
      if (event === 'data: [DONE]') sawDone = true;
      else if (event.includes('"usage":{')) sawUsage = true;
      const sent = SENT_AT.exec(event)?.[1];
      if (sent && measuring) transit.push(Number(arrivedNs - BigInt(sent)) / 1000);
    });
    await new Promise<void>((resolve, reject) => {
      response.body.on('data', (chunk: Buffer) => {
        arrivedNs = process.hrtime.bigint();
        const at = performance.now();
        const before = events;
        push(chunk);
        // Every event this chunk completed arrived now.
        for (let i = before; i < events; i++) arrivals.push(at);
        if (before === 0 && events > 0 && measuring) ttfb.push((at - started) * 1000);
      });
      response.body.on('end', resolve);
      response.body.on('error', reject);
    });
    if (!measuring) return;
    for (let i = 1; i < Math.min(arrivals.length, MEASURED_EVENTS); i++) gaps.push((arrivals[i]! - arrivals[i - 1]!) * 1000);
    if (sawUsage && sawDone) complete++;
  };

  const run = async (streams: number): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < streams) {
        next++;
        try {
          await one();
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  };
  try {
    // Warm-up: opens the pool's connections and warms both ends' code paths. Its timings are
    // discarded; its answers still count for metering and its failures as errors.
    await run(Math.max(3, options.concurrency));
    measuring = true;
    await run(options.streams);
  } finally {
    await pool.close();
  }
  return {
    streams: options.streams, concurrency: options.concurrency, answered200, complete, errors,
    ttfbUs: spread(ttfb), gapUs: spread(gaps), chunkDelayUs: spread(transit),
  };
}
