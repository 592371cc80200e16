import { generateSecret, MemoryStateStore, type LogFields, type Logger } from '@tollgate/shared';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './db/connect.ts';
import { createControlPlane } from './server.ts';

function captureLogger(lines: string[]): Logger {
  const log = (message: string, fields?: LogFields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe('createControlPlane', () => {
  it('masks unexpected errors: the client learns nothing, the log keeps the cause without the token', async () => {
    // A database that fails every query: the token lookup throws inside the request.
    const database = await openDatabase({ inMemory: true });
    await database.close();
    const logs: string[] = [];
    const store = new MemoryStateStore();
    const cp = createControlPlane({ db: database.db, store, masterKey: Buffer.alloc(32), logger: captureLogger(logs), graphiql: false });
    const token = generateSecret('management_token').secret;
    try {
      const response = await cp.yoga.fetch('http://cp.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { email } }' }),
      });
      const text = await response.text();
      const body = JSON.parse(text) as { data?: unknown; errors: { message: string }[] };
      expect(body.data ?? null).toBeNull();
      expect(body.errors.map((e) => e.message)).toEqual(['Unexpected error.']);
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/closed|pglite|select/i);
      expect(logs.join('\n')).not.toContain(token);
    } finally {
      await cp.close();
      await store.close();
    }
  });

  it('serves GraphiQL only when asked to', async () => {
    const database = await openDatabase({ inMemory: true });
    const store = new MemoryStateStore();
    try {
      for (const graphiql of [true, false]) {
        const cp = createControlPlane({ db: database.db, store, masterKey: Buffer.alloc(32), graphiql });
        const response = await cp.yoga.fetch('http://cp.test/graphql', { headers: { accept: 'text/html' } });
        expect((await response.text()).includes('<html') || false).toBe(graphiql);
        await cp.close();
      }
    } finally {
      await store.close();
      await database.close();
    }
  });
});
