import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { sql } from 'drizzle-orm';
import type { Database } from './connect.ts';

/**
 * The SQL drizzle-kit generated from `schema/`, at the repository root: the nearest folder above
 * this module that holds it (this file runs from control-plane/src/db, and bundled from
 * control-plane/dist).
 */
export const MIGRATIONS_FOLDER = findMigrations(import.meta.dirname);

function findMigrations(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'migrations');
    // drizzle-kit writes one folder per migration, each with its migration.sql.
    if (existsSync(candidate) && readdirSync(candidate, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(join(candidate, e.name, 'migration.sql')))) return candidate;
    if (dirname(dir) === dir) throw new Error(`no migrations folder above ${from}`);
  }
}

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
