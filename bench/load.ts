import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runAutocannon, stopAutocannon } from './autocannon.ts';
import type { CpuSource } from './proc.ts';

/**
 * Non-streamed load with wrk (see load.lua for how a run ends without cutting a request), or
 * autocannon where wrk is missing (see autocannon.ts).
 */
export interface LoadOptions {
  origin: string;
  apiKey: string | null;
  body: string;
  connections: number;
  threads: number;
  windowMs: number;
  /** CPU read at the start and the end of the window; reported per request answered. */
  cpu: CpuSource[];
}

export interface LoadResult {
  connections: number;
  windowS: number;
  /** Requests answered with a 2xx status within the window. */
  answered200: number;
  /** Requests sent in the window that got no 2xx answer (errors, or still unanswered at the end). */
  failed: number;
  requestsPerSecond: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** CPU microseconds per answered request, by process. */
  cpuUsPerRequest: Record<string, number>;
}

interface WrkReport {
  sent: number;
  completed: number;
  non2xx: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const SCRIPT = join(import.meta.dirname, 'load.lua');
/** Parked connections idle this long after the window, so the last measured answers arrive. */
const TAIL_MS = 1000;

/** wrk's version line, or null when it is not installed. */
function wrkVersion(): string | null {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return null;
  const version = `${probe.stdout}${probe.stderr}`;
  return /^wrk \S+/.exec(version)?.[0] ?? version.split('\n')[0]!.trim();
}

export interface LoadGenerator {
  /** wrk; else autocannon, whose rates are not comparable between systems (see autocannon.ts). */
  wrk: boolean;
  name: string;
}

let generator: LoadGenerator | null = null;

/**
 * The load generator of this run: wrk when installed (apt-get install wrk), else autocannon from
 * npm; BENCH_LOAD_GENERATOR=autocannon picks autocannon anyway.
 */
export function loadGenerator(): LoadGenerator {
  if (generator === null) {
    const forced = process.env.BENCH_LOAD_GENERATOR === 'autocannon';
    const wrk = forced ? null : wrkVersion();
    const why = forced ? 'BENCH_LOAD_GENERATOR=autocannon' : 'wrk is not installed: apt-get install wrk for the figures the README quotes';
    generator = wrk !== null ? { wrk: true, name: wrk } : { wrk: false, name: `autocannon (${why})` };
  }
  return generator;
}

let running: ReturnType<typeof spawn> | null = null;

/** Stops a load run in progress (on Ctrl-C). */
export function stopLoad(): void {
  running?.kill('SIGKILL');
  stopAutocannon();
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return loadGenerator().wrk ? runWrk(options) : runAutocannon(options);
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  // wrk takes whole seconds; the window itself is enforced by the script's clock.
  const seconds = Math.ceil((options.windowMs + TAIL_MS) / 1000);
  const threads = Math.max(1, Math.min(options.threads, options.connections));
  const args = [
    '-t', String(threads), '-c', String(options.connections), '-d', `${seconds}s`, '--timeout', '30s', '-s', SCRIPT,
    options.origin, '--', '/v1/chat/completions', String(options.windowMs), options.apiKey ?? '', options.body,
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ? `stopped by ${signal}` : `exit ${code}`));
  });

  const before = await Promise.all(options.cpu.map((source) => source.read()));
  await new Promise((resolve) => setTimeout(resolve, options.windowMs));
  const after = await Promise.all(options.cpu.map((source) => source.read()));
  const end = await exited;
  running = null;

  const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (end !== 'exit 0' || !line) throw new Error(`wrk failed (${end})${output ? `:\n${output}` : ''}`);
  const report = JSON.parse(line.slice('BENCH_RESULT '.length)) as WrkReport;
  const answered200 = report.completed - report.non2xx;
  const cpuUsPerRequest: Record<string, number> = {};
  options.cpu.forEach((source, i) => {
    cpuUsPerRequest[source.label] = answered200 > 0 ? (after[i]! - before[i]!) / answered200 : Number.NaN;
  });
  return {
    connections: options.connections,
    windowS: options.windowMs / 1000,
    answered200,
    failed: report.sent - answered200,
    requestsPerSecond: answered200 / (options.windowMs / 1000),
    latencyUs: { p50: report.p50, p90: report.p90, p99: report.p99, p999: report.p999, max: report.max, mean: report.mean },
    socketErrors: { connect: report.connectErrors, read: report.readErrors, write: report.writeErrors, timeout: report.timeouts },
    cpuUsPerRequest,
  };
}
