import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { silentLogger, type Logger } from '@tollgate/shared';
import type { Db } from './db/connect.ts';
import { ValidationError } from './errors.ts';
import { createPlatformAdmin, type CreatedAdmin } from './services/admins.ts';

/**
 * PGlite allows one process per data directory, so while the control plane runs, the CLI asks it
 * (over a Unix socket only the owner can open) to create admins instead of opening the database.
 * Protocol: HTTP, `POST /admins` with `{"email"}` → `{"userId","email","token"}` or `{"error"}`.
 */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'control.sock');
}

export async function listenControlSocket(db: Db, path: string, logger: Logger = silentLogger): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true });
  // A socket file left by a process that died; a live one would have answered the CLI.
  if (existsSync(path) && !(await socketAnswers(path))) unlinkSync(path);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/health') return reply(200, { ok: true });
      if (req.method !== 'POST' || req.url !== '/admins') return reply(404, { error: 'not found' });
      try {
        const { email } = JSON.parse(await readBody(req)) as { email?: unknown };
        reply(200, await createPlatformAdmin(db, typeof email === 'string' ? email : ''));
      } catch (error) {
        if (error instanceof ValidationError || error instanceof SyntaxError) return reply(400, { error: error.message });
        logger.error('control socket request failed', { error });
        reply(500, { error: 'internal error' });
      }
    })();
  });
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function call(path: string, method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method, path: urlPath, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      readBody(res).then((text) => resolve({ status: res.statusCode ?? 0, body: text }), reject);
    });
    req.on('timeout', () => req.destroy(new Error('control socket timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function socketAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    return (await call(path, 'GET', '/health')).status === 200;
  } catch {
    return false;
  }
}

/** Asks the running control plane to create an admin. */
export async function createAdminViaSocket(path: string, email: string): Promise<CreatedAdmin> {
  const response = await call(path, 'POST', '/admins', JSON.stringify({ email }));
  const parsed = JSON.parse(response.body) as CreatedAdmin & { error?: string };
  if (response.status !== 200) throw new ValidationError(parsed.error ?? `control plane answered ${response.status}`);
  return parsed;
}
