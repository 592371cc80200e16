import type { MessagePort } from 'node:worker_threads';
import type { StateStore, Unsubscribe } from './port.ts';
import { encodeError, REMOTE_METHODS, type RemoteError, type RemoteMessage, type RemoteRequest, type RemoteRouteTable } from './remote.ts';

const METHODS: ReadonlySet<string> = new Set(REMOTE_METHODS);

/**
 * Answers a RemoteStateStore's calls on `port` from `store`, in the thread that owns the store.
 * Only the store's own methods are callable, never `close` (the owner closes its store). When the
 * port closes, the subscriptions made through it end. Returns a function that stops serving.
 */
export function serveStateStore(store: StateStore, port: MessagePort): () => Promise<void> {
  const subscriptions = new Map<number, Promise<Unsubscribe>>();
  let open = true;

  const post = (message: RemoteMessage): void => {
    if (open) port.postMessage(message);
  };

  const unsubscribeAll = async (): Promise<void> => {
    const pending = [...subscriptions.values()];
    subscriptions.clear();
    await Promise.allSettled(pending.map(async (subscribed) => (await subscribed)()));
  };

  const answer = async ({ method, args }: RemoteRequest): Promise<unknown> => {
    if (method === 'getRouteTable') {
      const skipped: [string, RemoteError][] = [];
      const table = await store.getRouteTable((what, error) => skipped.push([what, encodeError(error)]));
      return { table, skipped } satisfies RemoteRouteTable;
    }
    if (method === 'subscribe') {
      const subscription = args[0] as number;
      const subscribed = store.subscribe({
        onAnnouncement: (announcement) => post({ kind: 'announcement', subscription, announcement }),
        onResync: () => post({ kind: 'resync', subscription }),
      });
      subscriptions.set(subscription, subscribed);
      await subscribed;
      return null;
    }
    if (method === 'unsubscribe') {
      const subscribed = subscriptions.get(args[0] as number);
      subscriptions.delete(args[0] as number);
      if (subscribed) await (await subscribed)();
      return null;
    }
    if (!METHODS.has(method)) throw new TypeError(`not a state store method: ${String(method)}`);
    return (store[method] as (...values: unknown[]) => Promise<unknown>).apply(store, args);
  };

  const fail = (id: number, error: unknown): void => post({ kind: 'reply', id, ok: false, error: encodeError(error) });
  port.on('message', (request: RemoteRequest) => {
    answer(request).then((value) => {
      try {
        post({ kind: 'reply', id: request.id, ok: true, value });
      } catch (error) {
        fail(request.id, error); // a value that cannot be cloned
      }
    }, (error: unknown) => fail(request.id, error));
  });
  port.on('close', () => {
    open = false;
    void unsubscribeAll();
  });

  return async () => {
    open = false;
    port.close();
    await unsubscribeAll();
  };
}
