import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { readBody } from './body.ts';
import { Reply } from './reply.ts';

/** The slice of a uWS response readBody and Reply touch, driven by the test. */
function fakeResponse() {
  let onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
  let onAborted: (() => void) | null = null;
  const res = {
    onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void) {
      onData = handler;
      return res;
    },
    onAborted(handler: () => void) {
      onAborted = handler;
      return res;
    },
  };
  return {
    res: res as unknown as HttpResponse,
    push: (chunk: ArrayBuffer, isLast: boolean) => onData!(chunk, isLast),
    abort: () => onAborted!(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('readBody', () => {
  it('copies each chunk, since uWS reuses the buffer it lends to onData', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 100);
    const lent = new Uint8Array([104, 105]);
    fake.push(lent.buffer, false);
    lent.set([63, 63]);
    fake.push(new Uint8Array([33]).buffer, true);
    expect((await body).toString()).toBe('hi!');
  });

  it('rejects past the cap, and the rejection is safe to leave unobserved for a while', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 4);
    fake.push(new Uint8Array(3).buffer, false);
    fake.push(new Uint8Array(3).buffer, false);
    // Nobody awaits yet (the handler may still be authenticating): an unhandled rejection here
    // would crash the process, and vitest fails the run on one.
    await settle();
    await expect(body).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
  });

  it('rejects when the client goes away mid-body instead of waiting forever', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 100);
    fake.push(new Uint8Array(3).buffer, false);
    fake.abort();
    await settle();
    await expect(body).rejects.toThrow();
  });
});
