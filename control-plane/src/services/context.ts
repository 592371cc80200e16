import type { Logger, ProviderId, StateStore } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import type { MasterKeyRing } from '@tollgate/shared';
import type { PublicationOutbox } from './outbox.ts';
import type { Publisher } from './publisher.ts';

/**
 * What a service needs to change something and publish it: the GraphQL context is one, and so is
 * anything else that manages the catalogue (the CLI, `tollgate apply`).
 */
export interface ServiceContext {
  db: Db;
  /** Seals with the ring's current key, opens with any of its keys (master-key rotation). */
  masterKey: Buffer;
  masterKeys: MasterKeyRing;
  publisher: Publisher;
  outbox: PublicationOutbox;
  /** The state store, read directly only by reconcile; changes reach it through the outbox. */
  store: StateStore;
  logger: Logger;
  /**
   * Where test calls to a provider go instead of its catalogue base URL (tests, egress proxies).
   * Channels carry their own base URL; this applies to BYOK credentials.
   */
  providerBaseUrls?: Partial<Record<ProviderId, string>>;
  /**
   * Ports Tollgate listens on (the control plane's, the embedded or configured data plane's): a
   * channel URL of this host with one of them is a loop. `main.ts` adds the ports it bound.
   */
  listenerPorts: Set<number>;
}
