import type { Access } from '../auth/principal.ts';
import type { User } from '../db/schema/index.ts';
import type { AccountsContext } from '../services/accounts.ts';
import type { EmailOutbox } from '../services/email.ts';
import type { RateLimits } from '../auth/rate-limit.ts';

/** Everything a resolver may use; built once per request by `server.ts`. */
export interface Context extends AccountsContext {
  access: Access;
  /** The caller, or null when anonymous (only public fields then). */
  user: User | null;
  request: { ip: string | null; userAgent: string | null; secure: boolean };
  email: EmailOutbox;
  rateLimits: RateLimits;
  /** Set-Cookie values for the response (sign-in, sign-out). */
  setCookies: string[];
}
