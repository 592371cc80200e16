import { join } from 'node:path';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { Database } from './connect.ts';

/** The SQL drizzle-kit generated from `schema/`, at the repository root. */
export const MIGRATIONS_FOLDER = join(import.meta.dirname, '..', '..', '..', 'migrations');

/** Applies pending migrations with drizzle's migrator for the driver in use. */
export async function migrate(database: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  const { driver } = database;
  const result =
    driver.kind === 'postgres'
      ? await migratePg(drizzlePg({ client: driver.pool }), config)
      : await migratePglite(drizzlePglite({ client: driver.client }), config);
  if (result && typeof result === 'object') throw new Error(`database migration failed: ${JSON.stringify(result)}`);
}
