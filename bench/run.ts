import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { repoRoot } from '../test/support/processes.ts';
import { measureConsumer } from './consumer.ts';
import { loadGenerator, runLoad, stopLoad, type LoadResult } from './load.ts';
import { checkMetering } from './metering.ts';
import { holdOpenStreams } from './open-streams.ts';
import { parseOptions, USAGE, type BenchOptions, type Measurement } from './options.ts';
import { baselineRss, postgresCpu, processCpu, redisCpu, rssMegabytes, type CpuSource } from './proc.ts';
import { checkTargets, computeRatios, render, type BenchResults, type SystemResult } from './report.ts';
import { sleep } from './stats.ts';
import { measureStreams } from './streams.ts';
import { direct, startEmbedded, startFloor, startRedisMode, startUpstream, type System, type SystemName, type Upstream } from './systems.ts';

/**
 * `npm run bench`: the fake upstream, then each system in turn (direct, floor, Tollgate with Redis,
 * Tollgate embedded), measured one after another in one run so that their ratios hold on a noisy
 * machine. Only one system runs at a time; everything is stopped at the end, on failure and on Ctrl-C.
 */
const CHAT_BODY = JSON.stringify({
  model: 'bench',
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say something short about foxes.' },
  ],
});

/** A long prompt (about 200 KB of prose), for the cost of a large body. */
const BIG_BODY = JSON.stringify({
  model: 'bench',
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Summarise this report in one sentence.\n' + 'The quarterly figures show steady growth across every region, with costs held flat. '.repeat(2_400) },
  ],
});

/** Microseconds JSON.parse takes for `body` here (median of a few hundred runs). */
function parseMicroseconds(body: string): number {
  for (let i = 0; i < 50; i++) JSON.parse(body);
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const started = process.hrtime.bigint();
    JSON.parse(body);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Set by Ctrl-C: the run stops between phases and unwinds through its finally blocks. */
let interrupted = false;
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/** Stoppers of everything running now, for the finally blocks and Ctrl-C. */
const running = new Set<() => Promise<void>>();
async function track<T extends { stop(): Promise<void> }>(thing: Promise<T>): Promise<T> {
  const started = await thing;
  running.add(started.stop);
  return started;
}
async function stop(thing: { stop(): Promise<void> }): Promise<void> {
  running.delete(thing.stop);
  await thing.stop();
}

function startSystem(name: SystemName, upstream: Upstream, options: BenchOptions): Promise<System> {
  if (name === 'direct') return Promise.resolve(direct(upstream));
  if (name === 'floor') return startFloor(upstream);
  if (name === 'redis') return startRedisMode(upstream, options.credits);
  return startEmbedded(upstream, options.credits);
}

function cpuSources(system: System): CpuSource[] {
  const sources = Object.entries(system.pids).map(([label, pid]) => processCpu(label, pid));
  if (system.tollgate?.redisUrl) sources.push(redisCpu('redis', system.tollgate.redisUrl));
  // The usage consumer's writes: the ledger's cost of each request, paid while the load runs.
  if (system.tollgate?.databaseUrl) sources.push(postgresCpu('postgres', system.tollgate.databaseUrl));
  return sources;
}

async function measureSystem(system: System, upstream: Upstream, options: BenchOptions, result: SystemResult): Promise<void> {
  const target = { origin: system.origin, apiKey: system.apiKey };
  const has = (m: Measurement): boolean => options.measurements.has(m);
  const first = Object.keys(system.pids)[0]!;
  const upstreamBefore = await upstream.stats();

  checkInterrupted();
  if (has('load')) {
    const load = (connections: number, threads: number, windowMs: number, cpu: CpuSource[]): Promise<LoadResult> =>
      runLoad({ origin: system.origin, apiKey: system.apiKey, body: CHAT_BODY, connections, threads, windowMs, cpu });
    let warmup: LoadResult | null = null;
    if (options.warmupMs > 0) {
      log(`[${system.name}] warm-up: ${options.warmupMs / 1000} s at c=${options.connections}`);
      warmup = await load(options.connections, options.threads, options.warmupMs, []);
      result.answered200 += warmup.answered200;
    }
    log(`[${system.name}] load: ${options.durationMs / 1000} s at c=1`);
    const c1 = await load(1, 1, options.durationMs, cpuSources(system));
    result.answered200 += c1.answered200;
    log(`[${system.name}] load: ${options.durationMs / 1000} s at c=${options.connections}`);
    const concurrent = await load(options.connections, options.threads, options.durationMs, cpuSources(system));
    result.answered200 += concurrent.answered200;
    result.load = { warmup, c1, concurrent };
    log(`[${system.name}]   ${Math.round(c1.requestsPerSecond)} req/s at c=1, ${Math.round(concurrent.requestsPerSecond)} req/s at c=${options.connections}`);
  }

  checkInterrupted();
  if (has('bigbody') && (system.tollgate || system.name === 'floor')) {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-bench-')), 'big.json');
    writeFileSync(file, BIG_BODY);
    const run = (body: string): Promise<LoadResult> =>
      runLoad({ origin: system.origin, apiKey: system.apiKey, body, connections: 8, threads: 1, windowMs: options.durationMs, cpu: cpuSources(system) });
    log(`[${system.name}] 200 KB prompts: ${options.durationMs / 1000} s at c=8, then short ones`);
    const big = await run(`@${file}`);
    const small = await run(CHAT_BODY);
    result.answered200 += big.answered200 + small.answered200;
    const parseUs = parseMicroseconds(BIG_BODY);
    const addedCpuUs = big.cpuUsPerRequest[first]! - small.cpuUsPerRequest[first]!;
    result.bigBody = { bytes: Buffer.byteLength(BIG_BODY), small, big, parseUs, addedCpuUs };
    log(`[${system.name}]   +${Math.round(addedCpuUs)} µs CPU per 200 KB request; JSON.parse of it ${Math.round(parseUs)} µs`);
  }

  checkInterrupted();
  if (has('streams')) {
    log(`[${system.name}] streams: ${options.sequentialStreams} one after another, ${options.concurrentStreams} at ${options.streamConcurrency} at a time`);
    const sequential = await measureStreams(target, { streams: options.sequentialStreams, concurrency: 1, model: 'bench' });
    const concurrent = await measureStreams(target, { streams: options.concurrentStreams, concurrency: options.streamConcurrency, model: 'bench' });
    result.answered200 += sequential.answered200 + concurrent.answered200;
    result.streams = { sequential, concurrent };
  }

  checkInterrupted();
  if (has('rss') && system.name !== 'direct') {
    log(`[${system.name}] memory: ${options.openStreams} slow streams open${options.openStreamPromptKb > 0 ? `, ${options.openStreamPromptKb} KB prompts` : ''}`);
    const open = await holdOpenStreams(target, {
      streams: options.openStreams, promptKb: options.openStreamPromptKb, rampStep: options.rampStep, rampEveryMs: options.rampEveryMs, chunkMs: options.slowChunkMs,
      pids: system.pids, upstreamOpen: async () => (await upstream.stats()).openSlow ?? 0,
    });
    result.answered200 += open.answered200;
    result.openStreams = open;
    log(`[${system.name}]   ${first} RSS ${open.rssIdleMb[first]!.toFixed(0)} MB idle, ${open.rssOpenMb[first]!.toFixed(0)} MB with ${open.opened} streams open`);
  }

  const upstreamAfter = await upstream.stats();
  for (const key of ['completions', 'streams', 'slowStreams'] as const) result.upstreamCalls[key] = (upstreamAfter[key] ?? 0) - (upstreamBefore[key] ?? 0);

  checkInterrupted();
  if (system.tollgate) {
    log(`[${system.name}] metering check: waiting for the usage consumer`);
    result.metering = await checkMetering(system, result.answered200);
    log(`[${system.name}]   metering ${result.metering.ok ? 'PASS' : 'FAIL'}`);
  }
  checkInterrupted();
  if (has('consumer') && system.tollgate?.redisUrl && system.tollgate.databaseUrl) {
    log(`[${system.name}] usage consumer: ${options.consumerEvents} events`);
    result.consumer = await measureConsumer({
      redisUrl: system.tollgate.redisUrl, databaseUrl: system.tollgate.databaseUrl, origin: system.origin, apiKey: system.apiKey!,
      events: options.consumerEvents,
      cpu: [processCpu('control plane', system.pids['control plane']!), postgresCpu('postgres', system.tollgate.databaseUrl), redisCpu('redis', system.tollgate.redisUrl)],
    });
    log(`[${system.name}]   ${Math.round(result.consumer.eventsPerSecond)} events/s`);
  }
  checkInterrupted();
  if (system.tollgate && options.restS > 0 && result.answered200 > 0) {
    // What a process gives back once the traffic stops: V8 shrinks its heaps when it sees the
    // process idle, and the settlement journal lets its last minute go.
    log(`[${system.name}] at rest: ${options.restS} s without requests`);
    await sleep(options.restS * 1000);
    result.rssAtRestMb = Object.fromEntries(Object.entries(system.pids).map(([label, pid]) => [label, rssMegabytes(pid)]));
    log(`[${system.name}]   ${first} RSS ${result.rssAtRestMb[first]!.toFixed(0)} MB at rest`);
  }
}

/** Which systems have something to measure under the selected measurements. */
function wanted(name: SystemName, options: BenchOptions): boolean {
  const m = options.measurements;
  if (m.has('load') || m.has('streams')) return true;
  if (m.has('rss') && name !== 'direct') return true;
  if (m.has('bigbody') && name !== 'direct') return true;
  return m.has('consumer') && name === 'redis';
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const generator = loadGenerator();
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0]!;
  const systems: BenchResults['systems'] = {};
  const problems: string[] = [];

  const baseline = await baselineRss();
  log(`starting the fake upstream`);
  const upstream = await track(startUpstream({ chunkMs: options.chunkMs, slowChunkMs: options.slowChunkMs }));
  try {
    for (const name of options.systems.filter((n) => wanted(n, options))) {
      if (interrupted) break;
      const result: SystemResult = {
        name, error: null, loadAverageAtStart: loadavg()[0]!, rssStartMb: {}, rssAtRestMb: null, load: null, streams: null, openStreams: null, metering: null, consumer: null, bigBody: null, upstreamCalls: {}, answered200: 0,
      };
      systems[name] = result;
      log(`[${name}] starting`);
      let system: System | null = null;
      try {
        system = await track(startSystem(name, upstream, options));
        result.rssStartMb = Object.fromEntries(Object.entries(system.pids).map(([label, pid]) => [label, rssMegabytes(pid)]));
        await measureSystem(system, upstream, options, result);
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error);
        log(`[${name}] failed: ${result.error}`);
        problems.push(`${name}: ${result.error.split('\n')[0]}`);
      } finally {
        if (system) await stop(system);
      }
      if (result.metering && !result.metering.ok) problems.push(...result.metering.problems.map((p) => `${name} metering: ${p}`));
      if (result.consumer && !result.consumer.ok) problems.push(...result.consumer.problems.map((p) => `usage consumer: ${p}`));
    }
  } finally {
    await stop(upstream);
  }
  if (interrupted) return 130;

  const ratios = computeRatios(systems);
  const { durationMs, warmupMs, connections, threads, sequentialStreams, concurrentStreams, streamConcurrency, chunkMs, openStreams, openStreamPromptKb, slowChunkMs, consumerEvents, restS, quick } = options;
  const results: BenchResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version, loadGenerator: generator.name, idleRssMb: baseline, loadAverage: { start: loadAtStart, end: loadavg()[0]! } },
    options: {
      quick, systems: options.systems, measurements: [...options.measurements], durationMs, warmupMs, connections, threads,
      sequentialStreams, concurrentStreams, streamConcurrency, chunkMs, openStreams, openStreamPromptKb, slowChunkMs, consumerEvents, restS,
    },
    systems,
    ratios,
    targets: checkTargets(systems, ratios, generator.wrk, openStreamPromptKb),
    verdict: { ok: problems.length === 0, problems },
  };
  const out = resolve(repoRoot, options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${render(results)}\n\nJSON: ${out}\n`);
  return problems.length === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      log(`${signal} again: stopping what runs and exiting`);
      void Promise.allSettled([...running].map((s) => s())).then(() => process.exit(130));
      return;
    }
    interrupted = true;
    log(`\n${signal}: stopping after the current phase (again to stop at once)`);
    stopLoad();
  });
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    await Promise.allSettled([...running].map((s) => s()));
    process.exit(1);
  },
);
