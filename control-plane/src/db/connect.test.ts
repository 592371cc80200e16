import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './connect.ts';
import { migrate } from './migrate.ts';
import { orgs } from './schema/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-db-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('openDatabase without DATABASE_URL (the embedded default)', () => {
  it('persists PGlite under <dataDir>/pgdata, and migrating again changes nothing', async () => {
    const first = await openDatabase({ dataDir });
    expect(first.driver.kind).toBe('pglite');
    await migrate(first);
    await first.db.insert(orgs).values({ name: 'Kept' });
    await first.close();
    expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(statSync(join(dataDir, 'pgdata')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'pgdata', 'PG_VERSION')).mode & 0o777).toBe(0o600);

    const second = await openDatabase({ dataDir });
    try {
      await migrate(second);
      expect(await second.db.query.orgs.findMany({ columns: { name: true, defaultTier: true } })).toEqual([{ name: 'Kept', defaultTier: 'resale' }]);
    } finally {
      await second.close();
    }
  }, 60_000);
});
