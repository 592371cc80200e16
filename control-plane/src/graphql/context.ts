import type { User } from '../db/schema/index.ts';
import type { ServiceContext } from '../services/context.ts';

/** Everything a resolver may use; built once per request by `server.ts`. */
export interface Context extends ServiceContext {
  /** The caller, from a valid management token; null when anonymous. */
  user: User | null;
}
