import { mkdirSync } from 'node:fs';
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

export interface DatabaseOptions {
  /** A Postgres connection string; without it, PGlite persisted under `<dataDir>/pgdata`. */
  databaseUrl?: string | undefined;
  dataDir: string;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle client's network error must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = drizzlePg({ client: pool, relations });
    return { db: db as unknown as Db, driver: { kind: 'postgres', pool }, close: () => pool.end() };
  }
  const dataDir = join(options.dataDir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir });
  const db = drizzlePglite({ client, relations });
  return { db: db as unknown as Db, driver: { kind: 'pglite', client }, close: () => client.close() };
}
