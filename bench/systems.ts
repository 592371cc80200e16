import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOf, startLaunch, startNodeProcess, type RunningProcess } from '../test/support/processes.ts';
import { freePort, startPostgres, startRedis, type RunningServer } from '../test/support/servers.ts';
import { setUpTollgate, type BenchTenant } from './setup.ts';
import { sleep } from './stats.ts';

/**
 * Starting and stopping what the benchmark measures: the fake upstream, the floor, and Tollgate in
 * its two modes, each as real processes on 127.0.0.1, configured the way a user configures them.
 */
export type SystemName = 'direct' | 'floor' | 'redis' | 'embedded';

export interface System {
  name: SystemName;
  origin: string;
  apiKey: string | null;
  /** Processes measured, by label; the first is the process under test. */
  pids: Record<string, number>;
  tollgate: { tenant: BenchTenant; redisUrl: string | null; databaseUrl: string | null } | null;
  stop(): Promise<void>;
}

export interface Upstream {
  origin: string;
  pid: number;
  stats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export const MODELS = ['bench', 'bench-slow'];
const QUIET = { TOLLGATE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', NODE_ENV: 'production', TOLLGATE_HOST: '127.0.0.1' };

/** Waits for `url` to answer 200, failing early (with the process's last output) if a process exits. */
async function waitHealthy(url: string, processes: RunningProcess[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of processes) {
      if (p.child.exitCode !== null) throw new Error(`a process exited (${p.child.exitCode}) while starting:\n${p.output.slice(-30).join('\n')}`);
    }
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} not healthy within ${timeoutMs} ms:\n${processes.flatMap((p) => p.output.slice(-15)).join('\n')}`);
    }
    await sleep(100);
  }
}

function pidOf(p: RunningProcess): number {
  if (p.child.pid === undefined) throw new Error('process has no pid');
  return p.child.pid;
}

async function stopAll(processes: RunningProcess[]): Promise<void> {
  for (const p of processes) {
    // A process that died during the run leaves its last words for the report.
    if (p.child.exitCode !== null || p.child.signalCode !== null) process.stderr.write(`${p.child.spawnargs.join(' ')} exited early (${p.child.exitCode ?? p.child.signalCode}):\n${p.output.slice(-15).join('\n')}\n`);
    if (process.env.BENCH_SHOW_OUTPUT) writeFileSync(`${process.env.BENCH_SHOW_OUTPUT}.${p.child.pid}.log`, `${p.child.spawnargs.join(' ')}\n${p.output.join('\n')}\n`);
  }
  await Promise.allSettled(processes.map((p) => p.stop()));
}

/**
 * A stop that may be called twice at once (the run's finally and Ctrl-C) and completes once: both
 * callers wait for the same, whole shutdown, so the benchmark never exits half-way through one.
 */
function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => (stopping ??= stop());
}

export async function startUpstream(options: { chunkMs: number; slowChunkMs: number }): Promise<Upstream> {
  const port = await freePort();
  const upstream = startNodeProcess('bench/upstream.ts', [], {
    BENCH_UPSTREAM_PORT: String(port), BENCH_CHUNK_MS: String(options.chunkMs), BENCH_SLOW_CHUNK_MS: String(options.slowChunkMs),
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${origin}/bench/stats`, [upstream], 30_000);
  } catch (error) {
    await upstream.stop();
    throw error;
  }
  return {
    origin,
    pid: pidOf(upstream),
    stats: async () => (await (await fetch(`${origin}/bench/stats`)).json()) as Record<string, number>,
    stop: once(() => upstream.stop()),
  };
}

export function direct(upstream: Upstream): System {
  return { name: 'direct', origin: upstream.origin, apiKey: null, pids: { upstream: upstream.pid }, tollgate: null, stop: async () => {} };
}

export async function startFloor(upstream: Upstream): Promise<System> {
  const port = await freePort();
  const floor = startNodeProcess('bench/floor.ts', [], { BENCH_FLOOR_PORT: String(port), BENCH_UPSTREAM_ORIGIN: upstream.origin });
  const origin = `http://127.0.0.1:${port}`;
  try {
    // The floor passes everything through, so the upstream's stats answer through it.
    await waitHealthy(`${origin}/bench/stats`, [floor], 30_000);
  } catch (error) {
    await floor.stop();
    throw error;
  }
  return { name: 'floor', origin, apiKey: null, pids: { floor: pidOf(floor) }, tollgate: null, stop: once(() => floor.stop()) };
}

/**
 * Stops a Postgres from test/support/servers.ts. As root, its stop() signals `runuser`, which does
 * not pass the signal on: after 10 s it kills runuser and the postmaster lives on, orphaned, until
 * it notices its data directory is gone. So the postmaster, found by the port it was given, gets
 * the fast-shutdown signal here first.
 */
async function stopPostgres(server: RunningServer): Promise<void> {
  const port = new URL(server.url).port;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const portIndex = argv.indexOf('-p');
    if (!argv[0]?.endsWith('/postgres') || portIndex < 0 || argv[portIndex + 1] !== port) continue;
    process.kill(Number(entry), 'SIGINT');
    for (const stop = Date.now() + 10_000; existsSync(`/proc/${entry}`) && Date.now() < stop; ) await sleep(50);
  }
  await server.stop();
}

/** Waits until the data plane lists every model to the key (it learns of them through the store). */
async function waitForRoutes(origin: string, apiKey: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(`${origin}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    const ids = response.status === 200 ? ((await response.json()) as { data: { id: string }[] }).data.map((m) => m.id) : [];
    if (MODELS.every((m) => ids.includes(m))) return;
    if (Date.now() > deadline) throw new Error(`the data plane did not list the benchmark models within 30 s (status ${response.status}, models ${ids.join(', ')})`);
    await sleep(200);
  }
}

/**
 * How an npm script runs a built process, with the entry named by `entryVariable` in place of its
 * own when that is set: another build, for an A/B run (BENCH_CONTROL_PLANE_ENTRY also runs embedded
 * mode, `start`; BENCH_DATA_PLANE_ENTRY may be e.g. data-plane/src/main.ts through tsx).
 */
function benchLaunch(script: Parameters<typeof launchOf>[0], entryVariable: 'BENCH_CONTROL_PLANE_ENTRY' | 'BENCH_DATA_PLANE_ENTRY'): ReturnType<typeof launchOf> {
  const launch = launchOf(script);
  return { ...launch, entry: process.env[entryVariable] || launch.entry };
}

/** Postgres + Redis, the control plane and one data plane as separate processes. */
export async function startRedisMode(upstream: Upstream, credits: number): Promise<System> {
  const started: { servers: RunningServer[]; processes: RunningProcess[] } = { servers: [], processes: [] };
  const stop = once(async () => {
    await stopAll(started.processes);
    for (const server of [...started.servers].reverse()) await server.stop().catch(() => {});
  });
  try {
    const postgres = await startPostgres();
    started.servers.push({ url: postgres.url, stop: () => stopPostgres(postgres) });
    const redis = await startRedis();
    started.servers.push(redis);
    const shared = { ...QUIET, REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: randomBytes(32).toString('base64') };
    const controlPort = await freePort();
    // Built, on plain node, as `npm run start:control-plane` runs it.
    execFileSync(process.execPath, ['control-plane/build.mjs'], { stdio: 'inherit' });
    // BENCH_PROFILE_DIR: CPU profiles of the control plane (the usage consumer's) and the data
    // plane, written when they stop.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const control = startLaunch(benchLaunch('start:control-plane', 'BENCH_CONTROL_PLANE_ENTRY'), { ...shared, DATABASE_URL: postgres.url, CONTROL_PLANE_PORT: String(controlPort) }, profile);
    started.processes.push(control);
    const controlOrigin = `http://127.0.0.1:${controlPort}`;
    await waitHealthy(`${controlOrigin}/healthz`, [control]);
    const dataPort = await freePort();
    // As `npm run start:data-plane` runs it: the built bundle, on plain node.
    execFileSync(process.execPath, ['data-plane/build.mjs'], { stdio: 'inherit' });
    const data = startLaunch(benchLaunch('start:data-plane', 'BENCH_DATA_PLANE_ENTRY'), { ...shared, DATABASE_URL: '', DATA_PLANE_PORT: String(dataPort) }, profile);
    started.processes.push(data);
    const origin = `http://127.0.0.1:${dataPort}`;
    await waitHealthy(`${origin}/healthz`, [control, data]);

    const tenant = await setUpTollgate({
      controlOrigin, cliEnv: { DATABASE_URL: postgres.url, ...QUIET }, upstreamBaseUrl: `${upstream.origin}/v1`, models: MODELS, credits,
    });
    await waitForRoutes(origin, tenant.apiKey);
    return {
      name: 'redis', origin, apiKey: tenant.apiKey,
      pids: { 'data plane': pidOf(data), 'control plane': pidOf(control) },
      tollgate: { tenant, redisUrl: redis.url, databaseUrl: postgres.url },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `npm start` as a new user runs it: one process, PGlite and the in-process store, its own data dir. */
export async function startEmbedded(upstream: Upstream, credits: number): Promise<System> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const [controlPort, dataPort] = [await freePort(), await freePort()];
  const env = { ...QUIET, TOLLGATE_DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', TOLLGATE_MASTER_KEY: '' };
  // Built, on plain node, as `npm start` runs it.
  execFileSync(process.execPath, ['control-plane/build.mjs'], { stdio: 'inherit' });
  const server = startLaunch(benchLaunch('start', 'BENCH_CONTROL_PLANE_ENTRY'), { ...env, CONTROL_PLANE_PORT: String(controlPort), DATA_PLANE_PORT: String(dataPort) });
  const stop = once(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    const controlOrigin = `http://127.0.0.1:${controlPort}`;
    const origin = `http://127.0.0.1:${dataPort}`;
    await waitHealthy(`${origin}/healthz`, [server]);
    await waitHealthy(`${controlOrigin}/healthz`, [server]);
    const tenant = await setUpTollgate({ controlOrigin, cliEnv: env, upstreamBaseUrl: `${upstream.origin}/v1`, models: MODELS, credits });
    await waitForRoutes(origin, tenant.apiKey);
    return { name: 'embedded', origin, apiKey: tenant.apiKey, pids: { embedded: pidOf(server) }, tollgate: { tenant, redisUrl: null, databaseUrl: null }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
