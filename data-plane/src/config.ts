import { loadMasterKey } from '@tollgate/shared';
import type { BreakerSettings } from './dispatch/breaker.ts';

export interface DataPlaneConfig {
  redisUrl: string;
  masterKey: Buffer;
  host: string;
  port: number;
  breaker: Partial<BreakerSettings>;
  requestTimeoutMs: number | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

/** Reads the data plane's configuration from the environment; throws one clear line when wrong. */
export function readConfig(env: NodeJS.ProcessEnv): DataPlaneConfig {
  const redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    throw new ConfigError('REDIS_URL is required to run the data plane on its own (npm start runs both planes in one process without it)');
  }
  const port = integer(env, 'DATA_PLANE_PORT', 0, 65_535) ?? 8080;
  const threshold = integer(env, 'TOLLGATE_BREAKER_THRESHOLD', 1, 1_000);
  const coolDownMs = integer(env, 'TOLLGATE_BREAKER_COOLDOWN_MS', 100, 3_600_000);
  return {
    redisUrl,
    masterKey: loadMasterKey({ env: env.TOLLGATE_MASTER_KEY, dataDir: env.TOLLGATE_DATA_DIR ?? '.tollgate', create: false }),
    host: env.TOLLGATE_HOST ?? '127.0.0.1',
    port,
    breaker: { ...(threshold === undefined ? {} : { threshold }), ...(coolDownMs === undefined ? {} : { coolDownMs }) },
    requestTimeoutMs: integer(env, 'TOLLGATE_REQUEST_TIMEOUT_MS', 1_000, 86_400_000),
  };
}
