import type { MessagePort } from 'node:worker_threads';
import type { MasterKeyRing, StateStore } from '@tollgate/shared';
import type { Config } from '../config.ts';

/** What the main thread gives the control plane's worker (structured clones: keys arrive as bytes). */
export interface WorkerData {
  config: Config;
  ring: { keys: Uint8Array[]; source: MasterKeyRing['source'] };
  /** The main thread's in-process store, served on this port; null: the worker connects to Redis itself. */
  storePort: MessagePort | null;
  storeKind: StateStore['kind'];
}

/** Main thread → worker. */
export type ToWorker =
  | { type: 'data-plane-listening'; port: number }
  | { type: 'close' };

/** Worker → main thread. Log lines travel here too, so they keep their order with the rest. */
export type FromWorker =
  | { type: 'log'; line: string }
  | { type: 'listening'; httpPort: number }
  | { type: 'failed'; error: { name: string; message: string; stack?: string | undefined } }
  | { type: 'closed' };
