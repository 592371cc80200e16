import { parseArgs } from 'node:util';
import type { SystemName } from './systems.ts';

/** `npm run bench -- [--quick] [--duration=S] [--only=...]`: what to run and for how long. */
export const SYSTEMS: SystemName[] = ['direct', 'floor', 'redis', 'embedded'];
export const MEASUREMENTS = ['load', 'bigbody', 'streams', 'rss', 'consumer'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface BenchOptions {
  quick: boolean;
  systems: SystemName[];
  measurements: Set<Measurement>;
  /** Each measured wrk run, and the warm-up before them. */
  durationMs: number;
  warmupMs: number;
  connections: number;
  /** wrk threads for the concurrent run (the run at concurrency 1 uses one). */
  threads: number;
  sequentialStreams: number;
  concurrentStreams: number;
  streamConcurrency: number;
  chunkMs: number;
  openStreams: number;
  /** Padding of the open streams' prompt, in KB (0: the short prompt every other stream sends). */
  openStreamPromptKb: number;
  rampStep: number;
  rampEveryMs: number;
  slowChunkMs: number;
  consumerEvents: number;
  /** Seconds the system is left alone at the end before its RSS at rest is read (0: not read). */
  restS: number;
  credits: number;
  out: string;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick                 a smoke run (about 1.5 minutes): short runs, few streams, still checks metering
  --duration=S            seconds per measured wrk run (default 10; quick 2)
  --warmup=S              seconds of warm-up load before them (default 3; quick 1)
  --connections=N         connections of the concurrent run (default 64)
  --threads=N             wrk threads of the concurrent run (default 2)
  --streams=N             streams measured one after another (default 50; quick 10)
  --concurrent-streams=N  streams measured N at a time, see --stream-concurrency (default 320; quick 64)
  --stream-concurrency=N  (default 32; quick 16)
  --chunk-ms=N            upstream pace of the 50 stream chunks (default 2)
  --open-streams=N        slow streams held open for the memory figure (default 2000; quick 200)
  --open-stream-prompt-kb=N  a prompt of about N KB for those slow streams, to see what a
                          stream holds of its prompt (default 0: a one-line prompt)
  --slow-chunk-ms=N       pace of the slow streams (default 1000; quick 400)
  --consumer-events=N     usage events for the consumer figure (default 50000; quick 5000)
  --rest=S                at the end, leave each Tollgate system alone S seconds and read its RSS at
                          rest (default 80: the data plane's settlement journal keeps a minute;
                          quick 0: not read)
                          bigbody: requests with a 200 KB prompt at c=8, against the same with a short one
  --only=LIST             comma-separated systems (${SYSTEMS.join(', ')}) and/or measurements
                          (${MEASUREMENTS.join(', ')}); a category left out means all of it
  --out=FILE              JSON results (default bench/results/latest.json)
`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      streams: { type: 'string' },
      'concurrent-streams': { type: 'string' },
      'stream-concurrency': { type: 'string' },
      'chunk-ms': { type: 'string' },
      'open-streams': { type: 'string' },
      'open-stream-prompt-kb': { type: 'string' },
      'slow-chunk-ms': { type: 'string' },
      'consumer-events': { type: 'string' },
      rest: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const number = (name: keyof typeof values, normal: number, quickValue: number, min = 1): number => {
    const text = values[name];
    if (text === undefined) return quick ? quickValue : normal;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got "${text}"`);
    return value;
  };

  const only = (values.only ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const part of only) {
    if (!(SYSTEMS as string[]).includes(part) && !(MEASUREMENTS as readonly string[]).includes(part)) {
      throw new Error(`--only: unknown part "${part}"; use ${[...SYSTEMS, ...MEASUREMENTS].join(', ')}`);
    }
  }
  const systems = SYSTEMS.filter((s) => only.includes(s));
  const measurements = MEASUREMENTS.filter((m) => only.includes(m));
  return {
    quick,
    systems: systems.length > 0 ? systems : SYSTEMS,
    measurements: new Set(measurements.length > 0 ? measurements : MEASUREMENTS),
    durationMs: number('duration', 10, 2) * 1000,
    warmupMs: number('warmup', 3, 1, 0) * 1000,
    connections: number('connections', 64, 64),
    threads: number('threads', 2, 2),
    sequentialStreams: number('streams', 50, 10),
    concurrentStreams: number('concurrent-streams', 320, 64),
    streamConcurrency: number('stream-concurrency', 32, 16),
    chunkMs: number('chunk-ms', 2, 2, 0),
    openStreams: number('open-streams', 2000, 200),
    openStreamPromptKb: number('open-stream-prompt-kb', 0, 0, 0),
    rampStep: 200,
    rampEveryMs: 100,
    slowChunkMs: number('slow-chunk-ms', 1000, 400),
    consumerEvents: number('consumer-events', 50_000, 5_000),
    restS: number('rest', 80, 0, 0),
    credits: 1_000_000,
    out: values.out ?? 'bench/results/latest.json',
  };
}
