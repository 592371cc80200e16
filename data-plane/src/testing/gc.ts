import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A context created after the flag is set gets V8's `gc` function; the test process needs no flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Runs a full garbage collection, for tests that check an object is no longer reachable (through a
 * WeakRef). A WeakRef's target is kept until the job that created or read it ends, so this first
 * lets the current one end.
 */
export async function collectGarbage(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}
