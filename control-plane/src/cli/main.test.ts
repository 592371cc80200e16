import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MemoryStateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestService } from '../../../test/support/services.ts';
import { controlSocketPath, listenControlSocket } from '../control-socket.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { listenHttp, type HttpListener } from '../http.ts';
import { createControlPlane } from '../server.ts';
import { createOrg, memberWithToken } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['control-plane/bin/tollgate.js', ...args], { cwd: repoRoot, env: { ...process.env, ...env } });

let service: TestService;
let database: Database;
beforeAll(async () => {
  service = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
  await service?.cleanup();
});

describe('tollgate CLI', () => {
  it('admin create migrates, creates an admin and prints a working token once', async () => {
    const { stdout } = await cli(['admin', 'create', '--email', 'Ops@Example.com'], { DATABASE_URL: service.url });
    const tokens = stdout.match(/tgm_[0-9A-Za-z]+/g) ?? [];
    expect(tokens).toHaveLength(1);
    expect(stdout).toMatch(new RegExp(`^${tokens[0]}$`, 'm'));

    database = await openDatabase({ databaseUrl: service.url, dataDir: '/nonexistent' });
    const cp = createControlPlane({ db: database.db, store: new MemoryStateStore(), masterKey: Buffer.alloc(32) });
    const response = await cp.yoga.fetch('http://cp.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
      body: JSON.stringify({ query: '{ viewer { email isPlatformAdmin } }' }),
    });
    expect(await response.json()).toEqual({ data: { viewer: { email: 'ops@example.com', isPlatformAdmin: true } } });

    // Only the first operator is bootstrapped: another needs an existing operator's token.
    await expect(cli(['admin', 'create', '--email', 'intruder@example.com'], { DATABASE_URL: service.url })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('a platform operator already exists'),
    });
    await expect(cli(['admin', 'create', '--email', 'intruder@example.com', '--token', 'tgm_forged'], { DATABASE_URL: service.url })).rejects.toMatchObject({ code: 1 });
    const second = await cli(['admin', 'create', '--email', 'second@example.com', '--token', tokens[0]!], { DATABASE_URL: service.url });
    expect(second.stdout.match(/tgm_[0-9A-Za-z]+/)?.[0]).not.toBe(tokens[0]);
    expect(await database.db.query.users.findFirst({ where: { email: 'intruder@example.com' } })).toBeUndefined();
  });

  it('asks a running embedded control plane over its socket instead of opening PGlite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
    // The "running control plane": an in-memory database the CLI could not open by itself.
    const embedded = await openDatabase({ inMemory: true });
    await migrate(embedded);
    const socket = await listenControlSocket(embedded.db, controlSocketPath(dataDir));
    try {
      expect(statSync(controlSocketPath(dataDir)).mode & 0o777).toBe(0o600);
      const { stdout } = await cli(['admin', 'create', '--email', 'embedded@example.com'], { DATABASE_URL: '', TOLLGATE_DATA_DIR: dataDir });
      const token = stdout.match(/tgm_[0-9A-Za-z]+/)?.[0];
      expect(token).toBeDefined();
      const user = await embedded.db.query.users.findFirst({ where: { email: 'embedded@example.com' } });
      expect(user).toMatchObject({ isPlatformAdmin: true });
      await expect(cli(['admin', 'create', '--email', 'nope'], { DATABASE_URL: '', TOLLGATE_DATA_DIR: dataDir })).rejects.toMatchObject({ code: 2 });
      // Whoever can open the socket cannot mint a second operator without an operator's token.
      await expect(cli(['admin', 'create', '--email', 'second@example.com'], { DATABASE_URL: '', TOLLGATE_DATA_DIR: dataDir })).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('already exists'),
      });
      expect(await embedded.db.query.users.findFirst({ where: { email: 'second@example.com' } })).toBeUndefined();
      const audit = await embedded.db.query.auditLog.findMany({ where: { action: 'adminCreate' }, orderBy: { at: 'asc' } });
      expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ValidationError', 'ForbiddenError']);
    } finally {
      await socket.close();
      await embedded.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to invent a data directory: admin create without a running Tollgate or its directory says so', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-cli-none-'));
    try {
      await expect(cli(['admin', 'create', '--email', 'a@example.com'], { DATABASE_URL: '', TOLLGATE_DATA_DIR: join(empty, 'missing') })).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('there is no Tollgate data directory'),
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('migrates alone and prints help', async () => {
    expect((await cli(['migrate'], { DATABASE_URL: service.url })).stdout).toMatch(/up to date/);
    const help = await cli(['--help'], {});
    expect(help.stdout).toMatch(/admin create --email/);
    expect(help.stdout).toMatch(/migrate/);
  });

  it('exits non-zero with a clear message on bad arguments', async () => {
    await expect(cli(['admin', 'create'], { DATABASE_URL: service.url })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--email') });
    await expect(cli(['frobnicate'], { DATABASE_URL: service.url })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
    await expect(cli(['admin', 'create', '--email', 'not-an-email'], { DATABASE_URL: service.url })).rejects.toMatchObject({ code: 2 });
  });
});

describe('tollgate reconcile', () => {
  let h: Harness;
  let http: HttpListener;
  let env: Record<string, string>;
  beforeAll(async () => {
    h = await createHarness({ database: 'pglite' });
    http = await listenHttp(h.controlPlane, { host: '127.0.0.1', port: 0 });
    env = { TOLLGATE_URL: `http://127.0.0.1:${http.port}`, TOLLGATE_TOKEN: h.token };
  });
  afterAll(async () => {
    await http?.close();
    await h?.cleanup();
  });

  it('reports drift as a table and by its exit code, repairs it with --repair, and prints JSON with --json', async () => {
    const orgId = await createOrg(h);
    const slug = (await h.database.db.query.orgs.findFirst({ where: { id: orgId } }))!.slug!;
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'start', idempotencyKey: `start-${orgId}` });
    const summary = 'checked 1 org(s) and 0 spend counter(s); 0 usage event(s) not consumed yet; 0 unresolved dead letter(s)\n';
    expect((await cli(['reconcile'], env)).stdout).toBe(`${summary}drift: 0 orgs, 0 counters\n`);

    // The store lost a quarter of a credit that the ledger still holds.
    await h.store.adjustBalance(orgId, -250_000_000n);
    const pad = (text: string, width: number) => text.padEnd(width);
    const w = Math.max('ORG'.length, slug.length);
    const table = `${pad('ORG', w)}  LEDGER  STORE  EXPECTED  DRIFT\n${pad(slug, w)}  1       0.75   1         -0.25\n`;
    await expect(cli(['reconcile'], env)).rejects.toMatchObject({ code: 1, stdout: `${summary}${table}drift: 1 orgs, 0 counters\n` });

    const json = await cli(['reconcile', '--json'], env).catch((error: { code: number; stdout: string }) => error);
    expect(json).toMatchObject({ code: 1 });
    expect(JSON.parse(json.stdout)).toMatchObject({
      repair: null,
      report: { orgsChecked: 1, repaired: false, counters: [], orgs: [{ orgId, orgSlug: slug, ledger: '1', store: '0.75', expectedStore: '1', drift: '-0.25', rowDrift: '0' }] },
    });

    const repaired = await cli(['reconcile', '--repair'], env);
    expect(repaired.stdout).toBe(`repaired 1 org(s) and 0 counter(s) from the ledger\n${table}checking again:\n${summary}drift: 0 orgs, 0 counters\n`);
    expect((await h.store.getBalance(orgId))?.balance).toBe(1_000_000_000n);
    expect((await h.database.db.query.auditLog.findMany({ where: { action: 'repairStore' } })).map((a) => a.outcome)).toEqual(['ok']);
  }, 120_000);

  it('refuses a token that is not an operator\'s, and lists itself in --help', async () => {
    const owner = await memberWithToken(h, await createOrg(h), 'owner');
    await expect(cli(['reconcile', '--repair'], { ...env, TOLLGATE_TOKEN: owner.token })).rejects.toMatchObject({ code: 1, stderr: 'tollgate: ForbiddenError: you are not allowed to do this\n' });
    await expect(cli(['reconcile'], { ...env, TOLLGATE_TOKEN: owner.token })).rejects.toMatchObject({ code: 1, stderr: 'tollgate: you are not allowed to do this\n' });
    expect((await cli(['--help'], {})).stdout).toMatch(/reconcile \[--repair\] \[--json\]/);
  }, 60_000);
});
