import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

/** A task's nice value, from /proc (the 19th field of its stat line). */
function niceOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('lowerThisThreadsPriority', () => {
  it('raises the nice value of the calling thread only, and never lowers it', async () => {
    // A thread of its own, as the control plane's worker is (TypeScript through tsx, as thread/host.ts
    // starts it from source): it reports its id and what it set, then waits to be let go.
    const source = [
      `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
      `import { parentPort } from 'node:worker_threads';`,
      `import { readlinkSync } from 'node:fs';`,
      `register();`,
      `const { lowerThisThreadsPriority } = await import(${JSON.stringify(new URL('./priority.ts', import.meta.url).href)});`,
      `const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());`,
      `const first = lowerThisThreadsPriority(5);`,
      `const second = lowerThisThreadsPriority(2);`,
      `parentPort.postMessage({ tid, first, second });`,
      `parentPort.once('message', () => parentPort.close());`,
    ].join('\n');
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    try {
      const reply = await new Promise<{ tid: number; first: number; second: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect([reply.first, reply.second, niceOf(process.pid, reply.tid), niceOf(process.pid, process.pid)]).toEqual([5, 5, 5, 0]);
    } finally {
      worker.postMessage('done');
      await worker.terminate();
    }
  });
});
