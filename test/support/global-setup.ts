import type { TestProject } from 'vitest/node';
import { redisServerPath } from './system-packages.ts';
import { startPostgres } from './servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of a Postgres server; each suite makes its own database on it. */
    postgresUrl: string;
    /** Set when TEST_REDIS_URL is given; otherwise suites start their own redis-server. */
    redisUrl: string | null;
  }
}

/** One Postgres for the whole run (databases per suite); redis-servers are per suite. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  const postgres = external ? null : await startPostgres();
  project.provide('postgresUrl', external ?? postgres!.url);
  const redisUrl = process.env.TEST_REDIS_URL ?? null;
  if (!redisUrl) redisServerPath();
  project.provide('redisUrl', redisUrl);
  return async () => {
    await postgres?.stop();
  };
}
