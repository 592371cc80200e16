import { DEFAULT_SETTLED_MARKER_SECONDS, loadMasterKeyRing, MAX_SETTLED_MARKER_HOURS, parseCredits } from '@tollgate/shared';
import type { BreakerSettings } from './dispatch/breaker.ts';
import { AddressSet } from './http/client-ip.ts';
import type { LeaseSettings } from './metering/instances.ts';
import type { GraceSettings } from './metering/outage.ts';

export interface DataPlaneConfig {
  redisUrl: string;
  /** The current master key first, then the previous ones (TOLLGATE_MASTER_KEY_PREVIOUS). */
  masterKey: readonly Buffer[];
  host: string;
  port: number;
  breaker: Partial<BreakerSettings>;
  requestTimeoutMs: number | undefined;
  /** Longest a Redis command may wait before the request gets 503. */
  redisTimeoutMs: number;
  /** TOLLGATE_SETTLED_MARKER_HOURS in seconds: how long Redis remembers a settled request. */
  settledMarkerSeconds: number;
  lease: Partial<LeaseSettings>;
  grace: Partial<GraceSettings>;
  trustedProxies: string[];
  /** The control plane's port on this host (CONTROL_PLANE_PORT, default 4000): a channel pointing there is a loop. */
  controlPlanePort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function credits(env: NodeJS.ProcessEnv, name: string): bigint | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  try {
    const value = parseCredits(text);
    if (value < 0n) throw new Error('negative');
    return value;
  } catch {
    throw new ConfigError(`${name} must be an amount of credits such as "1" or "0.5", got "${text}"`);
  }
}

/** The entries of `o` that are set: optional settings left out keep their defaults. */
function defined<T extends Record<string, unknown>>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}

function trustedProxies(text: string | undefined): string[] {
  const entries = (text ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  try {
    new AddressSet(entries);
  } catch (error) {
    throw new ConfigError(`TOLLGATE_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  return entries;
}

/** Reads the data plane's configuration from the environment; throws one clear line when wrong. */
export function readConfig(env: NodeJS.ProcessEnv): DataPlaneConfig {
  const redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    throw new ConfigError('REDIS_URL is required to run the data plane on its own (npm start runs both planes in one process without it)');
  }
  const port = integer(env, 'DATA_PLANE_PORT', 0, 65_535) ?? 8080;
  const threshold = integer(env, 'TOLLGATE_BREAKER_THRESHOLD', 1, 1_000);
  const coolDownMs = integer(env, 'TOLLGATE_BREAKER_COOLDOWN_MS', 100, 3_600_000);
  return {
    redisUrl,
    masterKey: loadMasterKeyRing({ env: env.TOLLGATE_MASTER_KEY, previousEnv: env.TOLLGATE_MASTER_KEY_PREVIOUS, dataDir: env.TOLLGATE_DATA_DIR ?? '.tollgate', create: false }).keys,
    host: env.TOLLGATE_HOST ?? '127.0.0.1',
    port,
    breaker: { ...(threshold === undefined ? {} : { threshold }), ...(coolDownMs === undefined ? {} : { coolDownMs }) },
    requestTimeoutMs: integer(env, 'TOLLGATE_REQUEST_TIMEOUT_MS', 1_000, 86_400_000),
    redisTimeoutMs: integer(env, 'TOLLGATE_REDIS_TIMEOUT_MS', 50, 60_000) ?? 2_000,
    settledMarkerSeconds: (integer(env, 'TOLLGATE_SETTLED_MARKER_HOURS', 1, MAX_SETTLED_MARKER_HOURS) ?? DEFAULT_SETTLED_MARKER_SECONDS / 3600) * 3600,
    lease: defined({ deadAfterMs: integer(env, 'TOLLGATE_INSTANCE_DEAD_AFTER_MS', 1_000, 600_000) }),
    trustedProxies: trustedProxies(env.TOLLGATE_TRUSTED_PROXIES),
    controlPlanePort: integer(env, 'CONTROL_PLANE_PORT', 1, 65_535) ?? 4000,
    grace: defined({ graceMs: integer(env, 'TOLLGATE_OUTAGE_GRACE_MS', 0, 3_600_000), perOrgAllowance: credits(env, 'TOLLGATE_OUTAGE_ALLOWANCE') }),
  };
}
