import type { Logger } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import type { User } from '../db/schema/index.ts';
import type { Publisher } from '../services/publisher.ts';

/** Everything a resolver may use; built once per request by `server.ts`. */
export interface Context {
  db: Db;
  /** The caller, from a valid management token; null when anonymous. */
  user: User | null;
  masterKey: Buffer;
  publisher: Publisher;
  logger: Logger;
}
