import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../testing/gc.ts';
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

  it('fills one buffer of the declared Content-Length, copying what uWS lends', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 100, '5');
    const lent = new Uint8Array([104, 101, 108]);
    fake.push(lent.buffer, false);
    lent.set([63, 63, 63]);
    fake.push(new Uint8Array([108, 111]).buffer, true);
    const read = await body;
    expect(read.toString()).toBe('hello');
    expect(read.byteLength).toBe(5);
  });

  it('refuses a declared Content-Length past the cap at once, reading nothing', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 4, '5');
    await settle();
    await expect(body).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
  });

  it('reads a body longer or shorter than it declared whole, and ignores a Content-Length that is not a number', async () => {
    const longer = fakeResponse();
    const pending = readBody(longer.res, new Reply(longer.res), 100, '2');
    longer.push(new Uint8Array([97]).buffer, false);
    longer.push(new Uint8Array([98, 99]).buffer, false);
    longer.push(new Uint8Array([100]).buffer, true);
    expect((await pending).toString()).toBe('abcd');

    const shorter = fakeResponse();
    const short = readBody(shorter.res, new Reply(shorter.res), 100, '9');
    shorter.push(new Uint8Array([120, 121]).buffer, true);
    const read = await short;
    expect([read.toString(), read.byteLength]).toEqual(['xy', 2]);

    const odd = fakeResponse();
    const oddBody = readBody(odd.res, new Reply(odd.res), 3, '1e9');
    odd.push(new Uint8Array([49, 50]).buffer, true);
    expect((await oddBody).toString()).toBe('12');
  });

  it('still caps a body that declared a small length and sends more', async () => {
    const fake = fakeResponse();
    const body = readBody(fake.res, new Reply(fake.res), 4, '2');
    fake.push(new Uint8Array(2).buffer, false);
    fake.push(new Uint8Array(3).buffer, true);
    await settle();
    await expect(body).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
  });

  // uWS keeps a response's data handler, and the reply its abort listeners, until the response
  // ends: for a stream, minutes after the body was read. They must not keep a long prompt alive.
  it('keeps nothing of a body once it is read, though the handlers stay registered', async () => {
    for (const declared of ['1000000', '']) {
      const fake = fakeResponse();
      const reply = new Reply(fake.res);
      const read = async (): Promise<WeakRef<ArrayBufferLike>> => {
        const body = readBody(fake.res, reply, 2_000_000, declared);
        fake.push(new Uint8Array(600_000).buffer, false);
        fake.push(new Uint8Array(400_000).buffer, true);
        const bytes = await body;
        expect(bytes.byteLength).toBe(1_000_000);
        return new WeakRef(bytes.buffer);
      };
      const ref = await read();
      await collectGarbage();
      expect(ref.deref()).toBeUndefined();
      // Both are still registered, and a late call is harmless.
      fake.push(new Uint8Array(1).buffer, true);
      fake.abort();
      expect(reply.open).toBe(false);
    }
  });
});
