import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { masterKeyId } from './envelope.ts';

/**
 * The master key wraps every secret's data key (crypto/envelope.ts). Both planes need it: from
 * TOLLGATE_MASTER_KEY (32 bytes, base64), else from `<dataDir>/master.key`, which the embedded
 * control plane creates (mode 0600) on first start.
 *
 * Rotation uses a key ring: the current key seals, every key of the ring opens. Older keys come
 * from TOLLGATE_MASTER_KEY_PREVIOUS (comma-separated base64 keys) or, in the data directory, from
 * `master.key.previous` (one per line). `tollgate rotate-master-key` re-wraps every data key under
 * the current key; once it reports none left under an old key, the old keys can be dropped.
 */
export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export function decodeMasterKey(text: string, name = 'TOLLGATE_MASTER_KEY'): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new MasterKeyError(`${name} must be 32 bytes encoded as base64 (openssl rand -base64 32)`);
  return key;
}

/** The current key and every key that may still open a secret, current first. */
export interface MasterKeyRing {
  readonly current: Buffer;
  /** Current first, then older keys, without duplicates. */
  readonly keys: readonly Buffer[];
  /** Where the ring came from, for the startup log (never the keys). */
  readonly source: 'env' | 'file' | 'generated';
  /** Key ids (crypto/envelope.ts masterKeyId), current first: safe to log. */
  readonly ids: readonly string[];
}

export function masterKeyRing(current: Buffer, previous: readonly Buffer[], source: MasterKeyRing['source']): MasterKeyRing {
  const keys = [current, ...previous.filter((k, i) => !k.equals(current) && previous.findIndex((o) => o.equals(k)) === i)];
  return { current, keys, source, ids: keys.map(masterKeyId) };
}

export interface LoadMasterKeyOptions {
  env: string | undefined;
  /** TOLLGATE_MASTER_KEY_PREVIOUS: older keys, comma-separated. */
  previousEnv?: string | undefined;
  dataDir: string;
  create: boolean;
}

export function loadMasterKey(options: LoadMasterKeyOptions): Buffer {
  return loadMasterKeyRing(options).current;
}

const CURRENT_FILE = 'master.key';
const PREVIOUS_FILE = 'master.key.previous';

function readPreviousFile(dataDir: string): Buffer[] {
  const path = join(dataDir, PREVIOUS_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => decodeMasterKey(line, path));
}

/** The ring from the environment, else from the data directory (created there when asked to). */
export function loadMasterKeyRing(options: LoadMasterKeyOptions): MasterKeyRing {
  const previousFromEnv = (options.previousEnv ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => decodeMasterKey(part, 'TOLLGATE_MASTER_KEY_PREVIOUS'));
  if (options.env) return masterKeyRing(decodeMasterKey(options.env), previousFromEnv, 'env');
  const path = join(options.dataDir, CURRENT_FILE);
  try {
    const current = decodeMasterKey(readFileSync(path, 'utf8'), path);
    return masterKeyRing(current, [...previousFromEnv, ...readPreviousFile(options.dataDir)], 'file');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!options.create) {
    throw new MasterKeyError(`no master key: set TOLLGATE_MASTER_KEY or provide ${path}`);
  }
  const key = randomBytes(32);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return masterKeyRing(key, previousFromEnv, 'generated');
}

/**
 * Makes `next` the data directory's current key and keeps the old one in `master.key.previous`,
 * each file replaced atomically (write, then rename), owner-only. Both planes of an embedded
 * Tollgate read these files at start.
 */
export function installMasterKeyFiles(dataDir: string, ring: MasterKeyRing, next: Buffer): MasterKeyRing {
  const updated = masterKeyRing(next, ring.keys, 'file');
  const write = (name: string, text: string): void => {
    const path = join(dataDir, name);
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  };
  // The previous keys first: a crash between the two writes leaves a ring that still opens everything.
  write(PREVIOUS_FILE, updated.keys.slice(1).map((k) => `${k.toString('base64')}\n`).join(''));
  write(CURRENT_FILE, `${next.toString('base64')}\n`);
  return updated;
}
