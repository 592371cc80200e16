import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './testing/harness.ts';
import { listenHttp, type HttpListener } from './http.ts';

let h: Harness;
let http: HttpListener;
beforeAll(async () => {
  h = await createHarness({ database: 'pglite' });
  http = await listenHttp(h.controlPlane, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await http?.close();
  await h?.cleanup();
});

describe('listenHttp', () => {
  it('answers the liveness probe', async () => {
    const response = await fetch(`http://127.0.0.1:${http.port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('serves GraphQL at /graphql with the bearer token', async () => {
    const response = await fetch(`http://127.0.0.1:${http.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.token}` },
      body: JSON.stringify({ query: '{ viewer { isPlatformAdmin } }' }),
    });
    expect(await response.json()).toEqual({ data: { viewer: { isPlatformAdmin: true } } });
  });

  it('serves nothing else', async () => {
    expect((await fetch(`http://127.0.0.1:${http.port}/v1/models`)).status).toBe(404);
  });
});
