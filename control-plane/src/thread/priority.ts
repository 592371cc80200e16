import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { basename } from 'node:path';

/**
 * The nice value of the control plane's thread in embedded mode; the data plane (the main thread)
 * keeps 0. On a busy machine the thread's bursts of database work (a usage batch into PGlite,
 * GraphQL) then wait for the data plane's requests instead of delaying a stream's first byte. 5,
 * not more: under full load the usage consumer still gets its share and keeps up (bench/NOTES.md,
 * "The control plane's thread below the data plane").
 */
export const CONTROL_PLANE_THREAD_NICE = 5;

/**
 * Raises the calling thread's nice value to `nice` (Linux keeps one per thread; raising one's own
 * needs no privilege) and returns it, or null where that is not possible: the thread then keeps
 * the process's priority.
 */
export function lowerThisThreadsPriority(nice: number): number | null {
  try {
    const tid = Number(basename(readlinkSync('/proc/thread-self')));
    setPriority(tid, Math.max(getPriority(tid), nice));
    return getPriority(tid);
  } catch {
    return null;
  }
}
