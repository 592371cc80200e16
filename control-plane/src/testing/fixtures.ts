import { randomBytes } from 'node:crypto';
import { generateSecret, type LogFields, type Logger } from '@tollgate/shared';
import { RateLimiter, type RateLimits } from '../auth/rate-limit.ts';
import { managementTokens, orgMembers, users, type OrgRole } from '../db/schema/index.ts';
import { expect } from 'vitest';
import { mutate, type Harness } from './harness.ts';

/** Test data shared by the control plane's suites. Names are unique so tests never depend on each other. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A logger that keeps every line (message and fields, as the real logger would serialise them). */
export function captureLogger(lines: string[]): Logger {
  const log = (message: string, fields?: LogFields) =>
    void lines.push(`${message} ${JSON.stringify(fields ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v))}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

/** Credits per million tokens, as the GraphQL TokenPriceInput takes them. */
export const PRICE = { input: '0.15', output: '0.6' };
export const COST = { input: '0.1', output: '0.4' };

export async function createOrg(h: Harness, name = unique('org')): Promise<string> {
  const r = await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name });
  expect(r.typename).toBe('MutationCreateOrgSuccess');
  return r.data.id as string;
}

export async function createChannel(h: Harness, input: Record<string, unknown> = {}): Promise<string> {
  const r = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', {
    name: unique('channel'),
    provider: 'custom',
    baseUrl: 'http://127.0.0.1:9/v1',
    tier: 'resale',
    credential: 'sk-test-channel-key-0000',
    // The fakes tests point channels at listen on 127.0.0.1; a test of the default sets it false.
    allowPrivateNetwork: true,
    ...input,
  });
  expect(r.typename).toBe('MutationCreateChannelSuccess');
  return r.data.id as string;
}

export async function createModel(h: Harness, input: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const r = await mutate(h, 'createModel', 'CreateModelInput', 'id name', { name: unique('model'), ...input });
  expect(r.typename).toBe('MutationCreateModelSuccess');
  return r.data as { id: string; name: string };
}

export async function createApiKey(h: Harness, orgId: string): Promise<{ id: string; secret: string }> {
  const r = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret apiKey { id }', { orgId, name: unique('key') });
  expect(r.typename).toBe('MutationCreateApiKeySuccess');
  return { id: r.data.apiKey.id as string, secret: r.data.secret as string };
}

/** Rate limits no test run reaches (suites that are not about rate limiting). */
export function generousRateLimits(): RateLimits {
  return {
    signInPerEmail: new RateLimiter(100_000, 60_000),
    anonymousPerIp: new RateLimiter(100_000, 60_000),
    badCredentialsPerIp: new RateLimiter(100_000, 60_000),
    perPrincipal: new RateLimiter(100_000, 60_000),
  };
}

/** A user with a role in an org, and a management token scoped to that org and role. */
export async function memberWithToken(h: Harness, orgId: string, role: OrgRole, email = `${unique(role)}@example.com`): Promise<{ userId: string; memberId: string; token: string }> {
  const [user] = await h.database.db.insert(users).values({ email }).returning();
  const [member] = await h.database.db.insert(orgMembers).values({ orgId, userId: user!.id, role }).returning();
  const token = generateSecret('management_token');
  await h.database.db.insert(managementTokens).values({ userId: user!.id, orgId, role, tokenHash: token.hash, prefix: token.prefix, last4: token.last4 });
  return { userId: user!.id, memberId: member!.id, token: token.secret };
}
