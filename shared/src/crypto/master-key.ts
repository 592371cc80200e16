import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The master key seals provider credentials. Both planes need the same one: from
 * TOLLGATE_MASTER_KEY (32 bytes, base64), else from `<dataDir>/master.key`, which the embedded
 * control plane creates (mode 0600) on first start.
 */
export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export function decodeMasterKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new MasterKeyError('TOLLGATE_MASTER_KEY must be 32 bytes encoded as base64 (openssl rand -base64 32)');
  return key;
}

export function loadMasterKey(options: { env: string | undefined; dataDir: string; create: boolean }): Buffer {
  if (options.env) return decodeMasterKey(options.env);
  const path = join(options.dataDir, 'master.key');
  try {
    return decodeMasterKey(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!options.create) {
    throw new MasterKeyError(`no master key: set TOLLGATE_MASTER_KEY or provide ${path}`);
  }
  const key = randomBytes(32);
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
