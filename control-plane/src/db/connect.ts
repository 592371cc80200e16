import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { PgAsyncDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { relations, type Relations } from './relations.ts';

/** What every query sees: the common base of the node-postgres and PGlite drivers. */
export type Db = PgAsyncDatabase<PgQueryResultHKT, Relations>;

export type DatabaseDriver =
  | { kind: 'postgres'; pool: pg.Pool }
  | { kind: 'pglite'; client: PGlite };

export interface Database {
  db: Db;
  driver: DatabaseDriver;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | {
      /** A Postgres connection string; without it, PGlite persisted under `<dataDir>/pgdata`. */
      databaseUrl?: string | undefined;
      dataDir: string;
    }
  /** A throwaway PGlite in this process's memory, for tests and trials; gone at close. */
  | { inMemory: true };

/**
 * Postgres's defaults size shared buffers at 128 MB, all of it resident in PGlite's WebAssembly
 * memory; a control plane's working set (the catalogue, the last usage batches) fits in far less,
 * and embedded mode's whole process has 300 MB (issue 9). A command-line setting, not
 * postgresql.conf, which PGlite would overwrite whole.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if ('inMemory' in options) return openPglite(await PGlite.create());
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle client's network error must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = drizzlePg({ client: pool, relations });
    return { db, driver: { kind: 'postgres', pool }, close: () => pool.end() };
  }
  const dataDir = join(options.dataDir, 'pgdata');
  // Owner only: the database holds sealed provider keys and the hashes of every key and token.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await createCluster(dataDir);
  const database = openPglite(await PGlite.create({ dataDir, startParams: PGLITE_START_PARAMS }));
  // PGlite's file system layer sets its own modes (0666) on the files it creates, past the umask.
  // The directory is 0700, so nothing in it is reachable by others; the files are narrowed too.
  restrictTree(dataDir);
  return database;
}

/**
 * A first start runs initdb, whose WebAssembly instances and memory (about 450 MB) stay in the
 * process after PGlite is closed, until the collector gets to them, which may be never. So the
 * cluster is created in a throwaway worker thread: its memory goes with the thread, and a first
 * start is as small as every later one. The module is a data: URL, so it runs the same from the
 * sources and from the build; PGlite is imported by its resolved address.
 */
async function createCluster(dataDir: string): Promise<void> {
  const source = [
    `import { workerData } from 'node:worker_threads';`,
    `import { PGlite } from ${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))};`,
    `await (await PGlite.create({ dataDir: workerData.dataDir, startParams: workerData.startParams })).close();`,
  ].join('\n');
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: { dataDir, startParams: PGLITE_START_PARAMS } });
  await new Promise<void>((resolve, reject) => {
    let failure: Error | null = null;
    worker.once('error', (error) => (failure = error));
    worker.once('exit', (code) => (code === 0 && failure === null ? resolve() : reject(failure ?? new Error(`creating the database cluster in ${dataDir} failed (exit code ${code})`))));
  });
}

function restrictTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(path, 0o700);
      restrictTree(path);
    } else if (entry.isFile()) {
      chmodSync(path, 0o600);
    }
  }
}

function openPglite(client: PGlite): Database {
  const db = drizzlePglite({ client, relations });
  return { db, driver: { kind: 'pglite', client }, close: () => client.close() };
}
