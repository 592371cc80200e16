import { randomBytes } from 'node:crypto';
import { installMasterKeyFiles, type Logger, type MasterKeyRing, type StateStore } from '@tollgate/shared';
import type { Config } from './config.ts';
import { controlSocketPath, listenControlSocket } from './control-socket.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { listenHttp } from './http.ts';
import { createControlPlane } from './server.ts';
import { operatorCount } from './services/admins.ts';
import { rewrapAllSecrets } from './services/master-key-rotation.ts';

export interface LaunchOptions {
  config: Config;
  ring: MasterKeyRing;
  /** The state store; the caller owns it and closes it after `close()`. */
  store: StateStore;
  logger: Logger;
  /** A data plane runs in this process too (`npm start` without --control-plane-only). */
  embedded: boolean;
}

export interface LaunchedControlPlane {
  httpPort: number;
  /** The embedded data plane listens on `port`: a channel pointing there is a loop. */
  addListenerPort(port: number): void;
  /** Logs how to create the first platform operator, when there is none yet. */
  hintFirstOperator(): Promise<void>;
  /** Stops the API, the control socket and the control plane (the consumer writes what is left), then the database. */
  close(): Promise<void>;
}

/**
 * The control plane as `npm start` runs it: opens and migrates the database, serves the CLI's
 * control socket (PGlite), publishes, consumes usage and listens. Runs on the main thread with
 * --control-plane-only, in a worker thread beside an embedded data plane (thread/worker.ts).
 */
export async function launchControlPlane({ config, ring, store, logger, embedded }: LaunchOptions): Promise<LaunchedControlPlane> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const migrations = await migrate(database);
  logger.info(`database migrations: ${migrations.applied} applied now, ${migrations.total} in total`);
  // In embedded mode both planes read the ring at start, so re-wrapping now (before anything is
  // published) completes a rotation begun with `tollgate rotate-master-key` while it was running.
  if (embedded && ring.keys.length > 1) {
    const report = await rewrapAllSecrets(database.db, ring);
    logger.info('re-wrapped secrets under the current master key', { ...report, masterKeyId: ring.ids[0] });
  }
  // Without DATABASE_URL only this process may open the PGlite directory, so the CLI comes here;
  // listening as soon as the schema is ready keeps the window for a direct open short.
  let installed = ring;
  const socket = config.databaseUrl
    ? null
    : await listenControlSocket(database.db, controlSocketPath(config.dataDir), logger, {
        ...(ring.source !== 'env'
          ? {
              rotateMasterKey: () => {
                installed = installMasterKeyFiles(config.dataDir, installed, randomBytes(32));
                return { newKeyId: installed.ids[0]! };
              },
            }
          : {}),
      });
  const controlPlane = createControlPlane({
    db: database.db,
    store,
    masterKey: ring,
    logger: logger.child({ plane: 'control' }),
    corsOrigins: config.corsOrigins,
    publicUrl: config.publicUrl,
    limits: { maxBodyBytes: config.graphqlMaxBodyBytes },
    consumerClaimIdleMs: config.usageClaimIdleMs,
    smtp: config.smtp,
    // The ports configured; those bound (port 0 picks one) are added once listening.
    listenerPorts: [config.controlPlanePort, config.dataPlanePort].filter((port) => port !== 0),
    ...(config.introspection !== undefined ? { introspection: config.introspection } : {}),
    ...(config.graphiql !== undefined ? { graphiql: config.graphiql } : {}),
  });
  await controlPlane.start();

  const http = await listenHttp(controlPlane, { host: config.controlPlaneHost, port: config.controlPlanePort });
  controlPlane.services.listenerPorts.add(http.port);
  logger.info(`control plane listening on http://${config.controlPlaneHost}:${http.port}/graphql`);
  return {
    httpPort: http.port,
    addListenerPort: (port) => void controlPlane.services.listenerPorts.add(port),
    async hintFirstOperator() {
      if ((await operatorCount(database.db)) > 0) return;
      logger.info(`no platform operator yet: create the first with  npx tollgate admin create --email you@example.com  (outside the repository: npm run tollgate -- admin create ...)${config.databaseUrl ? '' : `, with TOLLGATE_DATA_DIR=${config.dataDir} if you run it from another directory`}`);
    },
    async close() {
      await http.close();
      await socket?.close();
      await controlPlane.close();
      await database.close();
    },
  };
}
