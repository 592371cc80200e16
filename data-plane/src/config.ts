import { loadMasterKey } from '@tollgate/shared';

export interface DataPlaneConfig {
  redisUrl: string;
  masterKey: Buffer;
  host: string;
  port: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the data plane's configuration from the environment; throws one clear line when wrong. */
export function readConfig(env: NodeJS.ProcessEnv): DataPlaneConfig {
  const redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    throw new ConfigError('REDIS_URL is required to run the data plane on its own (npm start runs both planes in one process without it)');
  }
  const port = Number(env.DATA_PLANE_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`DATA_PLANE_PORT must be a port number, got "${env.DATA_PLANE_PORT}"`);
  return {
    redisUrl,
    masterKey: loadMasterKey({ env: env.TOLLGATE_MASTER_KEY, dataDir: env.TOLLGATE_DATA_DIR ?? '.tollgate', create: false }),
    host: env.TOLLGATE_HOST ?? '127.0.0.1',
    port,
  };
}
