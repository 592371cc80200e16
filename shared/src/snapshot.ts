/**
 * What the control plane publishes to the state store for the data plane: key records (by key
 * hash) and the route table. Both are denormalised so one lookup answers a request, and versioned
 * (`v`) so a data plane can refuse a shape it does not know instead of misreading it.
 */
export const TIERS = ['cheap', 'resale', 'byok'] as const;
export type Tier = (typeof TIERS)[number];

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

export interface KeyRecord {
  v: 1;
  id: string;
  orgId: string;
  /** Tier used when a model string has no `tier/` prefix (the org's default). */
  defaultTier: Tier;
  status: 'active' | 'revoked';
  /** Epoch milliseconds, or null for a key that does not expire. */
  expiresAt: number | null;
}

export type ChannelProtocol = 'openai';

export interface ChannelRecord {
  id: string;
  name: string;
  protocol: ChannelProtocol;
  /** Base URL including the version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  tier: Tier;
  /** The upstream API key sealed with the master key, associated data `channel:<id>`. */
  apiKeySealed: string;
}

export interface RouteTarget {
  channelId: string;
  upstreamModel: string;
  /** Lower runs first; ties share traffic by weight (routing issue). */
  priority: number;
  weight: number;
}

/** Prices are nanocredits per million tokens as decimal strings (JSON has no bigint). */
export interface PriceRecord {
  inputPerMillion: string;
  outputPerMillion: string;
}

export interface ModelRoute {
  /** Public model name, without tier prefix. */
  name: string;
  /** The sell price the customer is charged. */
  price: PriceRecord;
  targets: RouteTarget[];
  createdAt: number;
}

export interface RouteTable {
  v: 1;
  /** Increases with every publication; data planes ignore an older table than the one they hold. */
  version: number;
  channels: Record<string, ChannelRecord>;
  models: Record<string, ModelRoute>;
}

export function sealedKeyAssociatedData(channelId: string): string {
  return `channel:${channelId}`;
}

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

export function encodeKeyRecord(record: KeyRecord): string {
  return JSON.stringify(record);
}

export function decodeKeyRecord(text: string): KeyRecord {
  const value = JSON.parse(text) as Partial<KeyRecord>;
  if (value.v !== 1 || typeof value.id !== 'string' || typeof value.orgId !== 'string') {
    throw new SnapshotFormatError('unsupported key record');
  }
  return value as KeyRecord;
}

export function encodeRouteTable(table: RouteTable): string {
  return JSON.stringify(table);
}

export function decodeRouteTable(text: string): RouteTable {
  const value = JSON.parse(text) as Partial<RouteTable>;
  if (value.v !== 1 || typeof value.version !== 'number' || !value.models || !value.channels) {
    throw new SnapshotFormatError('unsupported route table');
  }
  return value as RouteTable;
}

/** A change the control plane announces on the pub/sub channel. */
export type Announcement = { kind: 'key'; hash: string } | { kind: 'routes'; version: number };

export function encodeAnnouncement(a: Announcement): string {
  return JSON.stringify(a);
}

export function decodeAnnouncement(text: string): Announcement | null {
  try {
    const value = JSON.parse(text) as Announcement;
    if (value.kind === 'key' && typeof value.hash === 'string') return value;
    if (value.kind === 'routes' && typeof value.version === 'number') return value;
  } catch {
    // An announcement we cannot read is dropped; the next one or a reconnect reloads everything.
  }
  return null;
}
