import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import { startRedis } from './servers.ts';

export interface TestService {
  url: string;
  cleanup(): Promise<void>;
}

/** A fresh database on the run's Postgres server, dropped by `cleanup`. */
export async function createTestDatabase(): Promise<TestService> {
  const adminUrl = inject('postgresUrl');
  const name = `tg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async cleanup() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A Redis of the suite's own: a fresh redis-server, or with TEST_REDIS_URL, one of its numbered
 * databases, flushed before and after use.
 */
export async function createTestRedis(): Promise<TestService> {
  const external = inject('redisUrl');
  if (!external) {
    const server = await startRedis();
    return { url: server.url, cleanup: server.stop };
  }
  const control = new Redis(external);
  const db = 1 + ((await control.incr('tollgate-test:db-counter')) % 15);
  await control.quit();
  const url = new URL(external);
  url.pathname = `/${db}`;
  const flush = async (): Promise<void> => {
    const client = new Redis(url.toString());
    await client.flushdb();
    await client.quit();
  };
  await flush();
  return { url: url.toString(), cleanup: flush };
}
