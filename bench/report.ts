import { cpus } from 'node:os';
import type { ConsumerResult } from './consumer.ts';
import type { LoadResult } from './load.ts';
import type { MeteringResult } from './metering.ts';
import type { OpenStreamsResult } from './open-streams.ts';
import type { StreamRun } from './streams.ts';
import type { SystemName } from './systems.ts';

/**
 * CPU per event of the processes writing usage (the figure that carries across machines), and the
 * rate they would reach with this machine's cores to themselves (wall time shares them with
 * everything else running).
 */
function consumerCpuLine(perEvent: Record<string, number> | undefined): string {
  const entries = Object.entries(perEvent ?? {});
  if (entries.length === 0) return '';
  const total = entries.reduce((sum, [, us]) => sum + us, 0);
  const ceiling = (cpus().length * 1_000_000) / total;
  return `\n  CPU per event: ${entries.map(([label, us]) => `${label} ${us.toFixed(1)} µs`).join(' · ')} = ${total.toFixed(1)} µs; with the ${cpus().length} cores to themselves: ${int(ceiling)} events/s`;
}

/** The figures of one run (written as JSON) and their rendering as tables. */
export interface SystemResult {
  name: SystemName;
  /** Set when the system failed to start or a measurement threw. */
  error: string | null;
  /** The machine's 1-minute load average when this system started (other work skews figures). */
  loadAverageAtStart: number;
  rssStartMb: Record<string, number>;
  /** After the run, once the system was left alone `restS` seconds (null: not read). */
  rssAtRestMb: Record<string, number> | null;
  load: { warmup: LoadResult | null; c1: LoadResult; concurrent: LoadResult } | null;
  streams: { sequential: StreamRun; concurrent: StreamRun } | null;
  openStreams: OpenStreamsResult | null;
  metering: MeteringResult | null;
  consumer: ConsumerResult | null;
  /**
   * Requests with a 200 KB prompt against the same with a short one, at the same concurrency: the
   * data plane's added CPU per request, against what JSON.parse of that body costs here.
   */
  bigBody: { bytes: number; small: LoadResult; big: LoadResult; parseUs: number; addedCpuUs: number } | null;
  /** Upstream calls made while this system ran. */
  upstreamCalls: Record<string, number>;
  /** Requests the clients saw answered 200, for the metering check. */
  answered200: number;
}

export interface Ratios {
  requestsPerSecond: Record<string, number | null>;
  cpuPerRequest: Record<string, number | null>;
  addedLatencyUs: Record<string, { p50: number; p99: number } | null>;
  addedStreamUs: Record<string, { ttfbP50: number; ttfbP99: number; gapP50: number; gapP99: number; chunkDelayP50: number; chunkDelayP99: number } | null>;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    /** wrk's version, or autocannon where wrk is missing. */
    loadGenerator: string;
    idleRssMb: { node: number; nodeWithTsx: number };
    /** 1-minute load average: above ~0.5 before a run, something else is using the CPUs. */
    loadAverage: { start: number; end: number };
  };
  options: Record<string, unknown>;
  systems: Partial<Record<SystemName, SystemResult>>;
  ratios: Ratios;
  targets: { target: string; measured: string; met: boolean | null }[];
  verdict: { ok: boolean; problems: string[] };
}

const ms = (us: number | undefined): string => (us === undefined || Number.isNaN(us) ? '–' : (us / 1000).toFixed(3));
const int = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const mb = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(0));
const ratio = (n: number | null | undefined): string => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toFixed(2)}×`);
const signedUs = (n: number): string => `${n >= 0 ? '+' : ''}${Math.round(n)} µs`;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mainPid(s: SystemResult): string {
  return Object.keys(s.rssStartMb)[0] ?? '';
}

export function computeRatios(systems: BenchResults['systems']): Ratios {
  const rps = (name: SystemName): number | undefined => systems[name]?.load?.concurrent.requestsPerSecond;
  const cpu = (name: SystemName): number | undefined => {
    const s = systems[name];
    return s?.load ? s.load.concurrent.cpuUsPerRequest[mainPid(s)] : undefined;
  };
  const div = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b !== undefined && b > 0 ? a / b : null);
  const added = (name: SystemName) => {
    const a = systems[name]?.load?.c1.latencyUs;
    const d = systems.direct?.load?.c1.latencyUs;
    return a && d ? { p50: a.p50 - d.p50, p99: a.p99 - d.p99 } : null;
  };
  const addedStream = (name: SystemName) => {
    const a = systems[name]?.streams?.sequential;
    const d = systems.direct?.streams?.sequential;
    return a && d
      ? {
          ttfbP50: a.ttfbUs.p50 - d.ttfbUs.p50, ttfbP99: a.ttfbUs.p99 - d.ttfbUs.p99, gapP50: a.gapUs.p50 - d.gapUs.p50, gapP99: a.gapUs.p99 - d.gapUs.p99,
          chunkDelayP50: a.chunkDelayUs.p50 - d.chunkDelayUs.p50, chunkDelayP99: a.chunkDelayUs.p99 - d.chunkDelayUs.p99,
        }
      : null;
  };
  return {
    requestsPerSecond: {
      'redis / floor': div(rps('redis'), rps('floor')),
      'embedded / floor': div(rps('embedded'), rps('floor')),
      'embedded / redis': div(rps('embedded'), rps('redis')),
    },
    cpuPerRequest: { 'redis data plane / floor': div(cpu('redis'), cpu('floor')), 'embedded / floor': div(cpu('embedded'), cpu('floor')) },
    addedLatencyUs: { floor: added('floor'), redis: added('redis'), embedded: added('embedded') },
    addedStreamUs: { floor: addedStream('floor'), redis: addedStream('redis'), embedded: addedStream('embedded') },
  };
}

/** The issue's targets against what this run measured (informational; only metering fails a run). */
export function checkTargets(systems: BenchResults['systems'], ratios: Ratios, rateComparable: boolean, openStreamPromptKb = 0): BenchResults['targets'] {
  const out: BenchResults['targets'] = [];
  // Only under wrk: autocannon runs in the bench's own process and caps every system's rate near the
  // same figure, so ratios of requests/s would compare the generator with itself.
  const rate = (value: number | null | undefined): number | null | undefined => (rateComparable ? value : undefined);
  const add = (target: string, value: number | null | undefined, format: (n: number) => string, met: (n: number) => boolean): void => {
    const known = value !== null && value !== undefined && !Number.isNaN(value);
    out.push({ target, measured: known ? format(value) : 'not measured', met: known ? met(value) : null });
  };
  const redis = systems.redis;
  add('Redis mode c=64 req/s ≥ 0.75 × floor', rate(ratios.requestsPerSecond['redis / floor']), ratio, (n) => n >= 0.75);
  add('data-plane CPU ≤ 200 µs per request (c=64)', redis?.load?.concurrent.cpuUsPerRequest['data plane'], (n) => `${Math.round(n)} µs`, (n) => n <= 200);
  add('added p50 latency at c=1 ≤ 0.3 ms', ratios.addedLatencyUs.redis?.p50, signedUs, (n) => n <= 300);
  add('added p99 latency at c=1 ≤ 1 ms', ratios.addedLatencyUs.redis?.p99, signedUs, (n) => n <= 1000);
  add('added time to first byte p50 ≤ 0.5 ms', ratios.addedStreamUs.redis?.ttfbP50, signedUs, (n) => n <= 500);
  add('added time to first byte p99 ≤ 1.5 ms', ratios.addedStreamUs.redis?.ttfbP99, signedUs, (n) => n <= 1500);
  // Gaps carry the upstream's timer jitter, which differs between runs more than 0.2 ms; the
  // chunk delay measures what the target is about (a gateway holding chunks) without it.
  add('added gap between chunks p99 ≤ 0.2 ms (as added chunk delay p99)', ratios.addedStreamUs.redis?.chunkDelayP99, signedUs, (n) => n <= 200);
  const megabytes = (n: number): string => `${n.toFixed(0)} MB`;
  // Idle three ways: started and not yet used; right before the open streams (after the load, in
  // a full run); and left alone at the end, when V8 has shrunk its heaps and the journal let go.
  add('data-plane idle RSS ≤ 80 MB: at start', redis?.rssStartMb['data plane'], megabytes, (n) => n <= 80);
  add('  before the open streams (after the load)', redis?.openStreams?.rssIdleMb['data plane'], megabytes, (n) => n <= 80);
  add('  at rest after the run', redis?.rssAtRestMb?.['data plane'], megabytes, (n) => n <= 80);
  // The target is about the streams the issue describes (a short prompt); with padded prompts the
  // figure is shown for what a stream holds of its prompt, not judged.
  if (openStreamPromptKb > 0) out.push({ target: `MB more per 1,000 open streams (prompts of ${openStreamPromptKb} KB)`, measured: redis?.openStreams ? `${redis.openStreams.mbPer1000.toFixed(1)} MB` : 'not measured', met: null });
  else add('≤ 40 MB more per 1,000 open streams', redis?.openStreams?.mbPer1000, (n) => `${n.toFixed(1)} MB`, (n) => n <= 40);
  const os = redis?.openStreams;
  add('open streams: no errors, no stalls', os ? os.errors + os.stalled + (os.streams - os.opened) : undefined, (n) => `${n} failed, stalled or not opened`, (n) => n === 0);
  add('embedded c=64 req/s ≥ 0.8 × Redis mode', rate(ratios.requestsPerSecond['embedded / redis']), ratio, (n) => n >= 0.8);
  add('embedded idle RSS ≤ 300 MB: at start', systems.embedded?.rssStartMb.embedded, megabytes, (n) => n <= 300);
  add('  before the open streams (after the load)', systems.embedded?.openStreams?.rssIdleMb.embedded, megabytes, (n) => n <= 300);
  add('  at rest after the run', systems.embedded?.rssAtRestMb?.embedded, megabytes, (n) => n <= 300);
  add('usage consumer ≥ 20,000 events/s', redis?.consumer?.eventsPerSecond, (n) => `${int(n)}/s`, (n) => n >= 20_000);
  const big = redis?.bigBody;
  add('200 KB prompt: added CPU ≤ 2 × its JSON.parse', big ? big.addedCpuUs / big.parseUs : undefined, (n) => `${n.toFixed(2)}× (${Math.round(big!.addedCpuUs)} µs vs parse ${Math.round(big!.parseUs)} µs)`, (n) => n <= 2);
  // The floor receives and sends the same 200 KB: what it adds is the stack's, not the gateway's.
  const floorBig = systems.floor?.bigBody;
  const aboveFloor = big && floorBig ? big.addedCpuUs - floorBig.addedCpuUs : undefined;
  add('  the same, above what the floor adds for the body', aboveFloor !== undefined ? aboveFloor / big!.parseUs : undefined, (n) => `${n.toFixed(2)}× (${Math.round(aboveFloor!)} µs; floor +${Math.round(floorBig!.addedCpuUs)} µs)`, (n) => n <= 2);
  return out;
}

export function render(results: BenchResults): string {
  const systems = Object.values(results.systems);
  const m = results.machine;
  const parts: string[] = [
    `${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.loadGenerator}; 1-minute load average when each system started: ` +
      `${systems.map((s) => `${s.name} ${s.loadAverageAtStart.toFixed(2)}`).join(', ')} (other work on the machine skews the figures, p99s most)`,
  ];
  const o = results.options as { durationMs: number; connections: number; chunkMs: number; openStreams: number; openStreamPromptKb?: number };
  const c = o.connections;

  const loaded = systems.filter((s) => s.load);
  if (loaded.length > 0) {
    parts.push(
      `Non-streamed chat completions (${m.loadGenerator.split(' ')[0]}, ${o.durationMs / 1000} s per run, ~300-byte answers; latency in ms)\n` +
        table(
          ['system', 'c=1 req/s', 'p50', 'p99', `c=${c} req/s`, 'p50', 'p99', 'failed', `CPU µs/request at c=${c}`],
          loaded.map((s) => {
            const l = s.load!;
            const cpu = Object.entries(l.concurrent.cpuUsPerRequest).map(([k, v]) => `${k} ${int(v)}`).join(' · ');
            return [s.name, int(l.c1.requestsPerSecond), ms(l.c1.latencyUs.p50), ms(l.c1.latencyUs.p99), int(l.concurrent.requestsPerSecond),
              ms(l.concurrent.latencyUs.p50), ms(l.concurrent.latencyUs.p99), String(l.c1.failed + l.concurrent.failed), cpu];
          }),
        ),
    );
  }

  const streamed = systems.filter((s) => s.streams);
  if (streamed.length > 0) {
    const streamTable = (title: string, pick: (s: SystemResult) => StreamRun): string =>
      `${title}\n` +
      table(
        ['system', 'TTFB p50', 'p99', 'gap p50', 'p99', 'delay p50', 'p99', 'complete', 'errors'],
        streamed.map((s) => {
          const r = pick(s);
          return [s.name, ms(r.ttfbUs.p50), ms(r.ttfbUs.p99), ms(r.gapUs.p50), ms(r.gapUs.p99), ms(r.chunkDelayUs.p50), ms(r.chunkDelayUs.p99),
            `${r.complete}/${r.streams}`, String(r.errors)];
        }),
      );
    const { sequential, concurrent } = streamed[0]!.streams!;
    parts.push(
      `Streams: 50 chunks, one every ${o.chunkMs} ms; in ms; delay is from the upstream writing a chunk to the client reading it\n\n` +
        streamTable(`${sequential.streams} streams one after another`, (s) => s.streams!.sequential) +
        '\n\n' +
        streamTable(`${concurrent.streams} streams, ${concurrent.concurrency} at a time`, (s) => s.streams!.concurrent),
    );
  }

  const held = systems.filter((s) => s.openStreams);
  if (held.length > 0) {
    parts.push(
      `Memory of the process under test (RSS, MB) with ${o.openStreams} slow streams open${o.openStreamPromptKb ? ` (prompts of ${o.openStreamPromptKb} KB)` : ''}; Tollgate runs built, on plain node, ` +
        `as npm start and npm run start:data-plane run it; the floor under tsx (an idle node: ${mb(results.machine.idleRssMb.node)} MB, ` +
        `under tsx: ${mb(results.machine.idleRssMb.nodeWithTsx)} MB)\n` +
        table(
          ['system', 'process', 'at start', 'idle', `${o.openStreams} open`, 'per 1,000', 'after close', 'opened', 'stalled', 'errors', 'upstream open (peak / after close)'],
          held.map((s) => {
            const r = s.openStreams!;
            const p = mainPid(s);
            return [s.name, p, mb(s.rssStartMb[p]), mb(r.rssIdleMb[p]), mb(r.rssOpenMb[p]), r.mbPer1000.toFixed(1), mb(r.rssAfterCloseMb[p]),
              String(r.opened), String(r.stalled), String(r.errors), `${r.upstreamOpenAtPeak} / ${r.upstreamOpenAfterClose}`];
          }),
        ),
    );
  }

  const rested = systems.filter((s) => s.rssAtRestMb);
  if (rested.length > 0) {
    parts.push(
      `Memory at rest (RSS, MB): each Tollgate system left alone ${(results.options as { restS?: number }).restS ?? '?'} s after its last request\n` +
        table(
          ['system', 'process', 'at start', 'at rest'],
          rested.flatMap((s) => Object.keys(s.rssAtRestMb!).map((p) => [s.name, p, mb(s.rssStartMb[p]), mb(s.rssAtRestMb![p])])),
        ),
    );
  }

  const r = results.ratios;
  const ratioLines = [
    ...Object.entries(r.requestsPerSecond).map(([k, v]) => `  req/s at c=${c}, ${k}: ${ratio(v)}`),
    ...Object.entries(r.cpuPerRequest).map(([k, v]) => `  CPU per request, ${k}: ${ratio(v)}`),
    ...Object.entries(r.addedLatencyUs).filter(([, v]) => v).map(([k, v]) => `  added latency at c=1 over direct, ${k}: p50 ${signedUs(v!.p50)}, p99 ${signedUs(v!.p99)}`),
    ...Object.entries(r.addedStreamUs).filter(([, v]) => v).map(([k, v]) =>
      `  added over direct for streams (one at a time), ${k}: TTFB p50 ${signedUs(v!.ttfbP50)}, p99 ${signedUs(v!.ttfbP99)}; ` +
      `gap p50 ${signedUs(v!.gapP50)}, p99 ${signedUs(v!.gapP99)}; chunk delay p50 ${signedUs(v!.chunkDelayP50)}, p99 ${signedUs(v!.chunkDelayP99)}`),
  ];
  parts.push(`Ratios\n${ratioLines.join('\n')}`);

  const consumer = results.systems.redis?.consumer;
  if (consumer) {
    parts.push(
      `Usage consumer (Redis stream → Postgres): ${int(consumer.events)} events in ${(consumer.totalMs / 1000).toFixed(2)} s = ` +
        `${int(consumer.eventsPerSecond)} events/s (appended in ${(consumer.appendMs / 1000).toFixed(2)} s) — ${consumer.ok ? 'all written exactly' : `FAIL: ${consumer.problems.join('; ')}`}` +
        consumerCpuLine(consumer.cpuPerEventUs),
    );
  }

  const bigBodies = systems.filter((s) => s.bigBody);
  if (bigBodies.length > 0) {
    parts.push(
      'Large bodies (c=8, CPU µs per request of the first process)\n' +
        bigBodies
          .map((s) => {
            const b = s.bigBody!;
            const cpu = (l: LoadResult) => Math.round(l.cpuUsPerRequest[mainPid(s)] ?? NaN);
            return `  ${s.name}: ${int(b.bytes / 1000)} KB prompt ${cpu(b.big)} µs, short prompt ${cpu(b.small)} µs: +${Math.round(b.addedCpuUs)} µs; JSON.parse of the body ${Math.round(b.parseUs)} µs (${(b.addedCpuUs / b.parseUs).toFixed(2)}×)`;
          })
          .join('\n'),
    );
  }

  const metered = systems.filter((s) => s.metering);
  if (metered.length > 0) {
    parts.push(
      'Metering\n' +
        metered
          .map((s) => {
            const m = s.metering!;
            const other = Object.entries(m.otherRecords).map(([k, v]) => `${v.count} × ${k}`).join(', ');
            const lines = [
              `  ${s.name}: ${m.ok ? 'PASS' : 'FAIL'} — ${int(m.answered200)} requests answered 200, ${int(m.records200)} usage records answered 200` +
                `${other ? ` (+ ${other})` : ''}; debited ${m.sumCostNanocredits} nanocredits = credited − balance` +
                `${m.redisBalanceNanocredits !== null ? `, Redis balance = ledger, held ${m.redisHeldNanocredits}` : ''}` +
                `; consumer caught up ${(m.catchUpMs / 1000).toFixed(1)} s after the load`,
              ...m.problems.map((p) => `    FAIL: ${p}`),
              ...m.notes.map((n) => `    note: ${n}`),
            ];
            return lines.join('\n');
          })
          .join('\n'),
    );
  }

  parts.push(
    'Targets (issue 9)\n' +
      table(['target', 'measured', ''], results.targets.map((t) => [t.target, t.measured, t.met === null ? '' : t.met ? 'met' : 'MISSED'])),
  );

  const errors = systems.filter((s) => s.error);
  if (errors.length > 0) parts.push(`Errors\n${errors.map((s) => `  ${s.name}: ${s.error}`).join('\n')}`);
  parts.push(results.verdict.ok ? 'Result: PASS (metering exact)' : `Result: FAIL\n${results.verdict.problems.map((p) => `  ${p}`).join('\n')}`);
  return parts.join('\n\n');
}
