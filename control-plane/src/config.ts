import { resolve } from 'node:path';

/** Settings from the environment, shared by `main.ts` and the `tollgate` CLI. */
export interface Config {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  masterKeyEnv: string | undefined;
  host: string;
  controlPlanePort: number;
  dataPlanePort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`${name} must be a port number, got "${text}"`);
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: resolve(env.TOLLGATE_DATA_DIR || '.tollgate'),
    masterKeyEnv: env.TOLLGATE_MASTER_KEY || undefined,
    host: env.TOLLGATE_HOST || '127.0.0.1',
    controlPlanePort: port(env, 'CONTROL_PLANE_PORT', 4000),
    dataPlanePort: port(env, 'DATA_PLANE_PORT', 8080),
  };
}
