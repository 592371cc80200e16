import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
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
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // A first start runs initdb, whose WebAssembly instance and memory (about 500 MB) the PGlite
    // object holds until it is closed: create the cluster, close it, open it again, so that a
    // first start stays as small as every later one.
    await (await PGlite.create({ dataDir, startParams: PGLITE_START_PARAMS })).close();
  }
  const database = openPglite(await PGlite.create({ dataDir, startParams: PGLITE_START_PARAMS }));
  // PGlite's file system layer sets its own modes (0666) on the files it creates, past the umask.
  // The directory is 0700, so nothing in it is reachable by others; the files are narrowed too.
  restrictTree(dataDir);
  return database;
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
