import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { sql } from 'drizzle-orm';
import type { Database } from './connect.ts';

/** The SQL drizzle-kit generated from `schema/`, at the repository root. */
export const MIGRATIONS_FOLDER = join(import.meta.dirname, '..', '..', '..', 'migrations');

async function appliedCount(database: Database): Promise<number> {
  try {
    const result = (await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as { rows: { n: number }[] };
    return Number(result.rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

/** Applies pending migrations with drizzle's migrator for the driver in use; says how many it applied. */
export async function migrate(database: Database): Promise<{ applied: number; total: number }> {
  const before = await appliedCount(database);
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  const { driver } = database;
  const result =
    driver.kind === 'postgres'
      ? await migratePg(drizzlePg({ client: driver.pool }), config)
      : await migratePglite(drizzlePglite({ client: driver.client }), config);
  if (result && typeof result === 'object') throw new Error(`database migration failed: ${JSON.stringify(result)}`);
  const total = readdirSync(MIGRATIONS_FOLDER, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
  return { applied: Math.max(0, (await appliedCount(database)) - before), total };
}
