import { resolve } from 'node:path';
import { DEFAULT_SETTLED_MARKER_SECONDS, MAX_SETTLED_MARKER_HOURS } from '@tollgate/shared';

/** Settings from the environment, shared by `main.ts` and the `tollgate` CLI. */
export interface Config {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  /** True when TOLLGATE_DATA_DIR was set (the CLI then never looks for another). */
  dataDirExplicit: boolean;
  masterKeyEnv: string | undefined;
  masterKeyPreviousEnv: string | undefined;
  /** Where the GraphQL API listens: loopback by default, whatever the data plane binds. */
  controlPlaneHost: string;
  /** Where the embedded data plane listens (TOLLGATE_HOST, as the data plane reads it). */
  dataPlaneHost: string;
  controlPlanePort: number;
  dataPlanePort: number;
  /** Browser origins allowed to call the API with credentials (comma-separated). */
  corsOrigins: string[];
  /** The console's address, for links in emails. */
  publicUrl: string;
  graphqlMaxBodyBytes: number;
  /** Introspection and suggestions in production (off unless set). */
  introspection: boolean | undefined;
  graphiql: boolean | undefined;
  /** TOLLGATE_USAGE_CLAIM_IDLE_MS: usage entries another consumer held this long are taken over. */
  usageClaimIdleMs: number;
  /** TOLLGATE_SETTLED_MARKER_HOURS in seconds: how long Redis remembers a settled request. */
  settledMarkerSeconds: number;
  /** Where emails go (TOLLGATE_SMTP_URL, TOLLGATE_EMAIL_FROM); null: to the log. */
  smtp: SmtpSettings | null;
}

/**
 * An SMTP server from `smtp://user:pass@host:587` (STARTTLS when the server offers it) or
 * `smtps://user:pass@host:465` (TLS from the first byte). The password is held here and handed to
 * the transport only: it is never logged, and errors about the URL never repeat it.
 */
export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (smtps); otherwise plain with STARTTLS when offered. */
  secure: boolean;
  auth: { user: string; pass: string } | null;
  /** The sender, e.g. `Tollgate <noreply@example.com>`. */
  from: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(text.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(text.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${text}"`);
}

function smtpSettings(env: NodeJS.ProcessEnv): SmtpSettings | null {
  const text = env.TOLLGATE_SMTP_URL;
  if (!text) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('TOLLGATE_SMTP_URL must be a URL like smtp://user:password@host:587 or smtps://user:password@host:465');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
    throw new ConfigError('TOLLGATE_SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (implicit TLS) and name a host');
  }
  const from = env.TOLLGATE_EMAIL_FROM?.trim();
  if (!from) throw new ConfigError('TOLLGATE_EMAIL_FROM (the sender, e.g. "Tollgate <noreply@example.com>") is required with TOLLGATE_SMTP_URL');
  const secure = url.protocol === 'smtps:';
  let auth: SmtpSettings['auth'] = null;
  if (url.username) {
    try {
      auth = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
    } catch {
      throw new ConfigError('TOLLGATE_SMTP_URL: the user or password is not valid percent-encoding');
    }
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : secure ? 465 : 587, secure, auth, from };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const controlPlaneHost = env.CONTROL_PLANE_HOST || '127.0.0.1';
  const controlPlanePort = integer(env, 'CONTROL_PLANE_PORT', 4000, 0, 65535);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: resolve(env.TOLLGATE_DATA_DIR || '.tollgate'),
    dataDirExplicit: Boolean(env.TOLLGATE_DATA_DIR),
    masterKeyEnv: env.TOLLGATE_MASTER_KEY || undefined,
    masterKeyPreviousEnv: env.TOLLGATE_MASTER_KEY_PREVIOUS || undefined,
    controlPlaneHost,
    dataPlaneHost: env.TOLLGATE_HOST || '127.0.0.1',
    controlPlanePort,
    dataPlanePort: integer(env, 'DATA_PLANE_PORT', 8080, 0, 65535),
    corsOrigins: (env.TOLLGATE_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    publicUrl: (env.TOLLGATE_PUBLIC_URL || `http://${controlPlaneHost}:${controlPlanePort}`).replace(/\/+$/, ''),
    graphqlMaxBodyBytes: integer(env, 'TOLLGATE_GRAPHQL_MAX_BODY_BYTES', 1_000_000, 1_000, 100_000_000),
    introspection: flag(env, 'TOLLGATE_GRAPHQL_INTROSPECTION'),
    graphiql: flag(env, 'TOLLGATE_GRAPHIQL'),
    usageClaimIdleMs: integer(env, 'TOLLGATE_USAGE_CLAIM_IDLE_MS', 15_000, 100, 3_600_000),
    settledMarkerSeconds: integer(env, 'TOLLGATE_SETTLED_MARKER_HOURS', DEFAULT_SETTLED_MARKER_SECONDS / 3600, 1, MAX_SETTLED_MARKER_HOURS) * 3600,
    smtp: smtpSettings(env),
  };
}
