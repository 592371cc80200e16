import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { silentLogger, type Logger } from '@tollgate/shared';
import { Access, principalFromToken } from './auth/principal.ts';
import type { Db } from './db/connect.ts';
import { ForbiddenError, ValidationError } from './errors.ts';
import { createPlatformAdmin, type CreatedAdmin } from './services/admins.ts';
import { recordAudit } from './services/audit.ts';

/**
 * PGlite allows one process per data directory, so while the control plane runs, the CLI asks it
 * over a Unix socket instead of opening the database. The socket is owner-only (0600, in a 0700
 * directory), but that alone would let any process of that user mint admins; so the socket only
 * bootstraps the FIRST platform operator (services/admins.ts), and once one exists it needs an
 * operator's management token (`--token`), checked like any bearer token. Every call is audited and
 * logged. Protocol: HTTP, `POST /admins` with `{"email","token"?}` → `{"userId","email","token"}`
 * or `{"error"}`; `GET /health`.
 */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'control.sock');
}

export interface ControlSocketActions {
  /**
   * Embedded `tollgate rotate-master-key`: installs a new current key in the data directory (the old
   * one kept as previous); the re-wrap runs at the next start, when both planes load the new ring.
   */
  rotateMasterKey?: () => { newKeyId: string };
}

export async function listenControlSocket(db: Db, path: string, logger: Logger = silentLogger, actions: ControlSocketActions = {}): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A socket file left by a process that died; a live one would have answered the CLI.
  if (existsSync(path) && !(await socketAnswers(path))) unlinkSync(path);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/health') return reply(200, { ok: true, dataDir: dirname(path) });
      if (req.method === 'POST' && req.url === '/rotate-master-key') {
        if (!actions.rotateMasterKey) return reply(409, { error: 'this Tollgate reads its master key from TOLLGATE_MASTER_KEY: rotate it there (see the README)' });
        try {
          const result = actions.rotateMasterKey();
          logger.warn('master key rotation started through the control socket; it completes at the next start', result);
          return reply(200, result);
        } catch (error) {
          logger.error('master key rotation failed', { error });
          return reply(500, { error: 'rotation failed; see the server log' });
        }
      }
      if (req.method !== 'POST' || req.url !== '/admins') return reply(404, { error: 'not found' });
      let email = '';
      let outcome = 'ok';
      let authorizedBy: string | null = null;
      try {
        const body = JSON.parse(await readBody(req)) as { email?: unknown; token?: unknown };
        email = typeof body.email === 'string' ? body.email : '';
        if (typeof body.token === 'string' && body.token) {
          const principal = await principalFromToken(db, body.token);
          if (!principal || !new Access(db, principal).isOperator) throw new ForbiddenError('the --token given is not a platform operator\'s valid management token');
          authorizedBy = principal.user.id;
        }
        const admin = await createPlatformAdmin(db, email, { authorizedBy });
        logger.warn('platform operator created through the control socket', { email: admin.email, authorizedBy });
        reply(200, admin);
      } catch (error) {
        outcome = error instanceof Error ? error.name : 'error';
        if (error instanceof ValidationError || error instanceof SyntaxError) return reply(400, { error: error.message });
        if (error instanceof ForbiddenError) return reply(403, { error: error.message });
        logger.error('control socket request failed', { error });
        reply(500, { error: 'internal error' });
      } finally {
        await recordAudit(db, {
          actorUserId: authorizedBy, actorEmail: null, actorKind: 'cli', tokenId: null, orgId: null, action: 'adminCreate',
          targetId: null, outcome, ip: null, userAgent: 'tollgate CLI (control socket)', details: { email },
        }).catch((error: unknown) => logger.error('writing the audit log failed', { error }));
      }
    })();
  });
  // Created owner-only, with no window in between. A worker thread (embedded mode's control plane)
  // may not set the umask; there the process's (0o077, set by main.ts) already makes it owner-only.
  const previousUmask = isMainThread ? process.umask(0o177) : null;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    if (previousUmask !== null) process.umask(previousUmask);
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

/** Asks the running control plane to create an admin (the first, or one an operator's token authorizes). */
export async function createAdminViaSocket(path: string, email: string, token?: string | null): Promise<CreatedAdmin> {
  const response = await call(path, 'POST', '/admins', JSON.stringify({ email, ...(token ? { token } : {}) }));
  const parsed = JSON.parse(response.body) as CreatedAdmin & { error?: string };
  if (response.status === 403) throw new ForbiddenError(parsed.error ?? 'refused');
  if (response.status !== 200) throw new ValidationError(parsed.error ?? `control plane answered ${response.status}`);
  return parsed;
}

/** Asks the running embedded control plane to install a new master key (see ControlSocketActions). */
export async function rotateMasterKeyViaSocket(path: string): Promise<{ newKeyId: string }> {
  const response = await call(path, 'POST', '/rotate-master-key', '{}');
  const parsed = JSON.parse(response.body) as { newKeyId: string; error?: string };
  if (response.status !== 200) throw new ValidationError(parsed.error ?? `control plane answered ${response.status}`);
  return parsed;
}
