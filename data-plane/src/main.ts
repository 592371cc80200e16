import { createLogger, RedisStateStore } from '@tollgate/shared';
import { readConfig } from './config.ts';
import { createDataPlane } from './server.ts';

const logger = createLogger('data-plane');

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const store = new RedisStateStore(config.redisUrl);
  const dataPlane = await createDataPlane({ store, masterKey: config.masterKey, host: config.host, port: config.port, logger });
  logger.info(`data plane listening on http://${config.host}:${dataPlane.port}`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal });
    await dataPlane.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : 'data plane failed to start', { error });
  process.exit(1);
});
