import { createLogger, createStateStore, loadMasterKey } from '@tollgate/shared';
import { readConfig, ConfigError } from './config.ts';
import { controlSocketPath, listenControlSocket, socketAnswers } from './control-socket.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { listenHttp } from './http.ts';
import { createControlPlane } from './server.ts';

/**
 * `npm start`: reads the config, migrates, and runs the control plane, plus (unless
 * `--control-plane-only`) the data plane in this same process. Everything else lives in modules.
 */
const logger = createLogger('tollgate');

async function main(): Promise<void> {
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
  const masterKey = loadMasterKey({ env: config.masterKeyEnv, dataDir: config.dataDir, create: true });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(database);
  // Without DATABASE_URL only this process may open the PGlite directory, so the CLI comes here;
  // listening as soon as the schema is ready keeps the window for a direct open short.
  const socket = config.databaseUrl ? null : await listenControlSocket(database.db, socketPath, logger);
  const store = createStateStore(config.redisUrl);
  const controlPlane = createControlPlane({ db: database.db, store, masterKey, logger: logger.child({ plane: 'control' }) });
  await controlPlane.start();

  const http = await listenHttp(controlPlane, { host: config.host, port: config.controlPlanePort });
  logger.info(`control plane listening on http://${config.host}:${http.port}/graphql`);

  let dataPlane: { port: number; close(): Promise<void> } | null = null;
  if (!controlPlaneOnly) {
    // Loaded only in embedded mode, so a control-plane-only process never loads the data plane.
    const { startEmbeddedDataPlane } = await import('./embedded.ts');
    dataPlane = await startEmbeddedDataPlane({
      store,
      masterKey,
      host: config.host,
      port: config.dataPlanePort,
      logger: logger.child({ plane: 'data' }),
    });
    logger.info(`data plane listening on http://${config.host}:${dataPlane.port}`);
  }
  logger.info('create the first admin with: npx tollgate admin create --email you@example.com');

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
