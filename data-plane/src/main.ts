import { createLogger, RedisStateStore } from '@tollgate/shared';
import { readConfig } from './config.ts';
import { createDataPlane } from './server.ts';

const logger = createLogger('data-plane');

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const store = new RedisStateStore(config.redisUrl, { commandTimeoutMs: config.redisTimeoutMs, settledMarkerSeconds: config.settledMarkerSeconds });
  const dataPlane = await createDataPlane({
    store,
    masterKey: config.masterKey,
    host: config.host,
    port: config.port,
    logger,
    breaker: config.breaker,
    lease: config.lease,
    grace: config.grace,
    trustedProxies: config.trustedProxies,
    listenerPorts: [config.controlPlanePort],
    ...(config.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: config.requestTimeoutMs }),
  });
  logger.info(`data plane listening on http://${config.host}:${dataPlane.port}`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    // A second signal means the operator will not wait for the drain.
    if (stopping) process.exit(1);
    stopping = true;
    logger.info('draining', { signal });
    try {
      await dataPlane.close();
      await store.close();
      logger.info('data plane stopped');
      process.exit(0);
    } catch (error) {
      logger.error('data plane did not stop cleanly', { error });
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : 'data plane failed to start', { error });
  process.exit(1);
});
