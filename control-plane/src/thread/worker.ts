import { parentPort, workerData } from 'node:worker_threads';
import { createLogger, createStateStore, masterKeyRing, RemoteStateStore } from '@tollgate/shared';
import { launchControlPlane } from '../launch.ts';
import type { FromWorker, ToWorker, WorkerData } from './messages.ts';
import { CONTROL_PLANE_THREAD_NICE, lowerThisThreadsPriority } from './priority.ts';

/**
 * The control plane's thread in embedded mode (started by thread/host.ts): PGlite, GraphQL, the
 * outbox, the usage consumer and the store watch run here, so none of it runs on the data plane's
 * event loop. The in-process store stays on the main thread with the data plane; this thread
 * reaches it over a MessagePort.
 */
const port = parentPort!;
const data = workerData as WorkerData;
const send = (message: FromWorker): void => port.postMessage(message);
// Lines go to the main thread, which writes them: in order with its own, and none lost at exit.
const logger = createLogger('tollgate', { write: (line) => send({ type: 'log', line }) });

async function run(): Promise<void> {
  lowerThisThreadsPriority(CONTROL_PLANE_THREAD_NICE);
  const [current, ...previous] = data.ring.keys.map((key) => Buffer.from(key));
  const ring = masterKeyRing(current!, previous, data.ring.source);
  const store = data.storePort ? new RemoteStateStore(data.storePort, { kind: data.storeKind }) : createStateStore(data.config.redisUrl, { settledMarkerSeconds: data.config.settledMarkerSeconds });
  const launched = await launchControlPlane({ config: data.config, ring, store, logger, embedded: true });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'data-plane-listening') {
      launched.addListenerPort(message.port);
      void launched.hintFirstOperator().catch((error: unknown) => logger.error('looking for a platform operator failed', { error }));
      return;
    }
    void (async () => {
      // The data plane has drained its settlements: the consumer writes everything left in the stream.
      await launched.close();
      await store.close();
      send({ type: 'closed' });
    })().catch((error: unknown) => failed(error));
  });
  send({ type: 'listening', httpPort: launched.httpPort });
}

function failed(error: unknown): void {
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
  send({ type: 'failed', error: { name, message, stack } });
}

run().catch(failed);
