import { MessageChannel, Worker } from 'node:worker_threads';
import { serveStateStore, type MasterKeyRing, type StateStore } from '@tollgate/shared';
import { ConfigError, type Config } from '../config.ts';
import type { FromWorker, ToWorker, WorkerData } from './messages.ts';

export interface ControlPlaneThread {
  httpPort: number;
  /** Tells the control plane where the embedded data plane listens (and logs the first-operator hint). */
  dataPlaneListening(port: number): void;
  /** Stops the control plane (its consumer writes everything left in the stream) and ends the thread. */
  close(): Promise<void>;
}

export interface ControlPlaneThreadOptions {
  config: Config;
  ring: MasterKeyRing;
  /** The main thread's store: served to the worker when in-process, else the worker opens its own. */
  store: StateStore;
  /** Called when the thread fails or exits after it started, other than through `close()`. */
  onFailure(error: Error): void;
  /** Where the thread's log lines go; this process's stdout by default. */
  log?: (line: string) => void;
}

/**
 * The worker's module. Built, it is worker.mjs beside this bundle. From the sources (tests, the
 * CLI's tsx) a worker does not inherit the main thread's loader: like bin/tollgate.js, a small ES
 * module registers tsx first, then imports the worker.
 */
function workerModule(): URL {
  // Built (`npm start` runs control-plane/dist/main.mjs): the worker is built beside it.
  if (import.meta.url.endsWith('.mjs')) return new URL('./worker.mjs', import.meta.url);
  const entry = new URL('./worker.ts', import.meta.url);
  const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

function errorOf(failure: Extract<FromWorker, { type: 'failed' }>['error']): Error {
  const error = failure.name === 'ConfigError' ? new ConfigError(failure.message) : new Error(failure.message);
  error.name = failure.name;
  if (failure.stack) error.stack = failure.stack;
  return error;
}

/**
 * Embedded mode's control plane in a worker thread (thread/worker.ts), so that PGlite, GraphQL and
 * the usage consumer never hold up the data plane's event loop. Resolves once it listens; its log
 * lines are written here, to this process's stdout, as they arrive.
 */
export function startControlPlaneThread({ config, ring, store, onFailure, log = (line) => void process.stdout.write(`${line}\n`) }: ControlPlaneThreadOptions): Promise<ControlPlaneThread> {
  const channel = store.kind === 'memory' ? new MessageChannel() : null;
  const stopServing = channel ? serveStateStore(store, channel.port1) : null;
  const data: WorkerData = {
    config,
    // Copies: a Buffer may be a view of a shared pool, and a clone carries its whole backing store.
    ring: { keys: ring.keys.map((key) => Uint8Array.from(key)), source: ring.source },
    storePort: channel?.port2 ?? null,
    storeKind: store.kind,
  };
  const worker = new Worker(workerModule(), {
    workerData: data,
    transferList: channel ? [channel.port2] : [],
    // A small young generation: the default's 32 MB stay resident after startup's allocations
    // (measured: 35 MB less RSS with 8), and GraphQL and the consumer's batches need no more.
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  const send = (message: ToWorker): void => worker.postMessage(message);

  let phase: 'starting' | 'running' | 'closing' | 'closed' = 'starting';
  let settleStart: { resolve(httpPort: number): void; reject(error: Error): void };
  let settleClose: { resolve(): void; reject(error: Error): void } | null = null;
  const started = new Promise<number>((resolve, reject) => (settleStart = { resolve, reject }));

  const failure = (error: Error): void => {
    if (phase === 'starting') settleStart.reject(error);
    else if (phase === 'closing') settleClose?.reject(error);
    else if (phase === 'running') onFailure(error);
    phase = 'closed';
  };
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'log') log(message.line);
    else if (message.type === 'listening') {
      phase = 'running';
      settleStart.resolve(message.httpPort);
    } else if (message.type === 'closed') {
      phase = 'closed';
      settleClose?.resolve();
    } else failure(errorOf(message.error));
  });
  worker.on('error', failure);
  worker.on('exit', (code) => {
    if (phase !== 'closed') failure(new Error(`the control plane's thread exited (code ${code})`));
  });

  return started.then(
    (httpPort) => ({
      httpPort,
      dataPlaneListening: (port) => send({ type: 'data-plane-listening', port }),
      async close() {
        if (phase !== 'running') return;
        phase = 'closing';
        await new Promise<void>((resolve, reject) => {
          settleClose = { resolve, reject };
          send({ type: 'close' });
        });
        await worker.terminate();
        await stopServing?.();
      },
    }),
    async (error: Error) => {
      await worker.terminate();
      await stopServing?.();
      throw error;
    },
  );
}
