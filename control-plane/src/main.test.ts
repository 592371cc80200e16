import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlSocketPath, listenControlSocket } from './control-socket.ts';
import { openDatabase, type Database } from './db/connect.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const start = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'control-plane/src/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', CONTROL_PLANE_PORT: '0', DATA_PLANE_PORT: '0', ...env },
    timeout: 20_000,
  });

let dataDir: string;
let database: Database;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tollgate-main-'));
  database = await openDatabase({ inMemory: true });
});
afterAll(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// Only the refusals: starting for real is the end-to-end suite's job (test/e2e.test.ts).
describe('npm start refuses a configuration it cannot run', () => {
  it('--control-plane-only without REDIS_URL', async () => {
    await expect(start(['--control-plane-only'], { TOLLGATE_DATA_DIR: dataDir })).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('--control-plane-only needs REDIS_URL'),
    });
  });

  it('a second process on a PGlite directory another one is serving', async () => {
    const socket = await listenControlSocket(database.db, controlSocketPath(dataDir));
    try {
      await expect(start([], { TOLLGATE_DATA_DIR: dataDir })).rejects.toMatchObject({
        code: 1,
        stdout: expect.stringContaining('another Tollgate is already running'),
      });
    } finally {
      await socket.close();
    }
  });
});
