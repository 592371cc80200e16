import { createLogger, createStateStore, loadMasterKeyRing } from '@tollgate/shared';
import { readConfig, ConfigError } from './config.ts';
import { controlSocketPath, socketAnswers } from './control-socket.ts';

/**
 * `npm start`: reads the config and runs the control plane, plus (unless `--control-plane-only`)
 * the data plane in this same process: the data plane on this thread, the control plane in a
 * worker thread (thread/host.ts). Everything else lives in modules.
 */
const logger = createLogger('tollgate');

async function main(): Promise<void> {
  // Everything this process creates (the master key, PGlite's files, the socket) is owner-only.
  process.umask(0o077);
  const controlPlaneOnly = process.argv.includes('--control-plane-only');
  const config = readConfig();
  if (controlPlaneOnly && !config.redisUrl) {
    // The in-process store is only shared with a data plane in this same process.
    throw new ConfigError('--control-plane-only needs REDIS_URL: separate data-plane processes can only share state through Redis');
  }
  if (!config.databaseUrl && (await socketAnswers(controlSocketPath(config.dataDir)))) {
    // Two processes on one PGlite directory would corrupt it.
    throw new ConfigError(`another Tollgate is already running with the data directory ${config.dataDir}`);
  }
  logger.info(`data directory: ${config.dataDir}`, { database: config.databaseUrl ? 'postgres (DATABASE_URL)' : 'pglite', store: config.redisUrl ? 'redis' : 'in-process' });
  const ring = loadMasterKeyRing({ env: config.masterKeyEnv, previousEnv: config.masterKeyPreviousEnv, dataDir: config.dataDir, create: true });
  if (ring.source === 'generated') {
    logger.warn(
      `generated a new master key in ${config.dataDir}/master.key: back it up now. Without it, every stored provider credential is lost. ` +
        'In production, set TOLLGATE_MASTER_KEY instead (openssl rand -base64 32).',
      { masterKeyId: ring.ids[0] },
    );
  }
  const store = createStateStore(config.redisUrl, { settledMarkerSeconds: config.settledMarkerSeconds });

  let planes: { close(): Promise<void> };
  // Each mode loads only what it runs: in embedded mode this thread never loads the control plane.
  if (controlPlaneOnly) {
    const { launchControlPlane } = await import('./launch.ts');
    const controlPlane = await launchControlPlane({ config, ring, store, logger, embedded: false });
    await controlPlane.hintFirstOperator();
    planes = controlPlane;
  } else {
    const [{ startControlPlaneThread }, { startEmbeddedDataPlane }] = await Promise.all([import('./thread/host.ts'), import('./embedded.ts')]);
    const controlPlane = await startControlPlaneThread({
      config,
      ring,
      store,
      onFailure: (error) => {
        // As an uncaught error on this thread would: the process stops.
        logger.error('the control plane stopped', { error });
        process.exit(1);
      },
    });
    const dataPlane = await startEmbeddedDataPlane({
      store,
      // Every key of the ring: secrets sealed under a previous key still open until they are re-wrapped.
      masterKey: ring.keys,
      host: config.dataPlaneHost,
      port: config.dataPlanePort,
      listenerPorts: [controlPlane.httpPort],
      logger: logger.child({ plane: 'data' }),
    });
    logger.info(`data plane listening on http://${config.dataPlaneHost}:${dataPlane.port}`);
    controlPlane.dataPlaneListening(dataPlane.port);
    planes = {
      async close() {
        // The data plane drains its settlements into the stream first; the control plane's
        // consumer then writes everything left in it (the stream lives in this process).
        await dataPlane.close();
        await controlPlane.close();
      },
    };
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, shutting down`);
    try {
      await planes.close();
      await store.close();
      process.exit(0);
    } catch (error) {
      logger.error('shutdown failed', { error });
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  logger.error(error instanceof ConfigError ? error.message : 'startup failed', { error });
  process.exit(1);
});
