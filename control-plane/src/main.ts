import { randomBytes } from 'node:crypto';
import { createLogger, createStateStore, installMasterKeyFiles, loadMasterKeyRing } from '@tollgate/shared';
import { readConfig, ConfigError } from './config.ts';
import { controlSocketPath, listenControlSocket, socketAnswers } from './control-socket.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { listenHttp } from './http.ts';
import { createControlPlane } from './server.ts';
import { operatorCount } from './services/admins.ts';
import { rewrapAllSecrets } from './services/master-key-rotation.ts';

/**
 * `npm start`: reads the config, migrates, and runs the control plane, plus (unless
 * `--control-plane-only`) the data plane in this same process. Everything else lives in modules.
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
  const socketPath = controlSocketPath(config.dataDir);
  if (!config.databaseUrl && (await socketAnswers(socketPath))) {
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
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const migrations = await migrate(database);
  logger.info(`database migrations: ${migrations.applied} applied now, ${migrations.total} in total`);
  // In embedded mode both planes read the ring at start, so re-wrapping now (before anything is
  // published) completes a rotation begun with `tollgate rotate-master-key` while it was running.
  if (!controlPlaneOnly && ring.keys.length > 1) {
    const report = await rewrapAllSecrets(database.db, ring);
    logger.info('re-wrapped secrets under the current master key', { ...report, masterKeyId: ring.ids[0] });
  }
  // Without DATABASE_URL only this process may open the PGlite directory, so the CLI comes here;
  // listening as soon as the schema is ready keeps the window for a direct open short.
  let installed = ring;
  const socket = config.databaseUrl
    ? null
    : await listenControlSocket(database.db, socketPath, logger, {
        ...(ring.source !== 'env'
          ? {
              rotateMasterKey: () => {
                installed = installMasterKeyFiles(config.dataDir, installed, randomBytes(32));
                return { newKeyId: installed.ids[0]! };
              },
            }
          : {}),
      });
  const store = createStateStore(config.redisUrl);
  const controlPlane = createControlPlane({
    db: database.db,
    store,
    masterKey: ring,
    logger: logger.child({ plane: 'control' }),
    corsOrigins: config.corsOrigins,
    publicUrl: config.publicUrl,
    limits: { maxBodyBytes: config.graphqlMaxBodyBytes },
    // The ports configured; those bound (port 0 picks one) are added once listening.
    listenerPorts: [config.controlPlanePort, config.dataPlanePort].filter((port) => port !== 0),
    consumerClaimIdleMs: config.usageClaimIdleMs,
    ...(config.introspection !== undefined ? { introspection: config.introspection } : {}),
    ...(config.graphiql !== undefined ? { graphiql: config.graphiql } : {}),
  });
  await controlPlane.start();

  const http = await listenHttp(controlPlane, { host: config.controlPlaneHost, port: config.controlPlanePort });
  controlPlane.services.listenerPorts.add(http.port);
  logger.info(`control plane listening on http://${config.controlPlaneHost}:${http.port}/graphql`);

  let dataPlane: { port: number; close(): Promise<void> } | null = null;
  if (!controlPlaneOnly) {
    // Loaded only in embedded mode, so a control-plane-only process never loads the data plane.
    const { startEmbeddedDataPlane } = await import('./embedded.ts');
    dataPlane = await startEmbeddedDataPlane({
      store,
      masterKey: ring.current,
      host: config.dataPlaneHost,
      port: config.dataPlanePort,
      listenerPorts: [http.port],
      logger: logger.child({ plane: 'data' }),
    });
    controlPlane.services.listenerPorts.add(dataPlane.port);
    logger.info(`data plane listening on http://${config.dataPlaneHost}:${dataPlane.port}`);
  }
  if ((await operatorCount(database.db)) === 0) {
    logger.info(`no platform operator yet: create the first with  npx tollgate admin create --email you@example.com  (outside the repository: npm run tollgate -- admin create ...)${config.databaseUrl ? '' : `, with TOLLGATE_DATA_DIR=${config.dataDir} if you run it from another directory`}`);
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, shutting down`);
    try {
      await dataPlane?.close();
      await http.close();
      await socket?.close();
      await controlPlane.close();
      await store.close();
      await database.close();
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
