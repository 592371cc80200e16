import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStateStore, seal, sealedKeyAssociatedData, silentLogger, type ChannelRecord, type KeyRecord, type RouteTable, type StateStore, type Tier } from '@tollgate/shared';
import { resolveRoute } from './resolve.ts';
import { RouteTableHolder } from './route-table.ts';

const masterKey = randomBytes(32);
const key = (defaultTier: Tier): KeyRecord => ({ v: 1, id: 'k', orgId: 'o', defaultTier, status: 'active', expiresAt: null });

function channel(id: string, tier: Tier, sealedWith = masterKey): ChannelRecord {
  return { id, name: `${id}-name`, protocol: 'openai', baseUrl: `https://${id}.example/v1/`, tier, apiKeySealed: seal(sealedWith, `sk-${id}`, sealedKeyAssociatedData(id)) };
}

function table(version: number): RouteTable {
  return {
    v: 1,
    version,
    channels: { a: channel('a', 'resale'), b: channel('b', 'resale'), c: channel('c', 'cheap'), bad: channel('bad', 'byok', randomBytes(32)) },
    models: {
      chat: {
        name: 'chat', price: { inputPerMillion: '1', outputPerMillion: '2' }, createdAt: 1_700_000_000_000,
        targets: [
          { channelId: 'b', upstreamModel: 'chat-b', priority: 2, weight: 1 },
          { channelId: 'a', upstreamModel: 'chat-a', priority: 1, weight: 1 },
          { channelId: 'c', upstreamModel: 'chat-c', priority: 0, weight: 1 },
          { channelId: 'bad', upstreamModel: 'chat-bad', priority: 0, weight: 1 },
        ],
      },
      unpriced: { name: 'unpriced', price: { inputPerMillion: '1.5', outputPerMillion: '2' }, createdAt: 0, targets: [{ channelId: 'a', upstreamModel: 'x', priority: 0, weight: 1 }] },
      orphan: { name: 'orphan', price: { inputPerMillion: '1', outputPerMillion: '1' }, createdAt: 0, targets: [{ channelId: 'gone', upstreamModel: 'x', priority: 0, weight: 1 }] },
    },
  };
}

describe('route table and resolution', () => {
  let store: MemoryStateStore;
  let routes: RouteTableHolder;

  beforeEach(async () => {
    store = new MemoryStateStore();
    await store.putRouteTable(table(3));
    routes = new RouteTableHolder(store, masterKey, silentLogger);
    await routes.reload();
  });

  it('opens channel keys once per load and splits the base URL into pool origin and path', () => {
    expect(routes.channel('a')).toMatchObject({ apiKey: 'sk-a', origin: 'https://a.example', basePath: '/v1' });
  });

  it('skips a channel whose key does not open, keeping the others', () => {
    expect(routes.channel('bad')).toBeUndefined();
    expect(() => resolveRoute('byok/chat', key('resale'), routes)).toThrow(expect.objectContaining({ code: 'model_not_allowed' }));
  });

  it('skips a model whose price is not whole nanocredits, keeping the others', () => {
    expect(routes.model('unpriced')).toBeUndefined();
    expect(() => resolveRoute('unpriced', key('resale'), routes)).toThrow(expect.objectContaining({ code: 'model_not_found' }));
    expect(routes.model('chat')?.price).toEqual({ inputPerMillion: 1n, outputPerMillion: 2n });
  });

  it('orders the tier\'s targets by priority, from an explicit prefix or the key\'s default tier', () => {
    const resale = resolveRoute('resale/chat', key('cheap'), routes);
    expect(resale.tier).toBe('resale');
    expect(resale.candidates.map((c) => c.target.upstreamModel)).toEqual(['chat-a', 'chat-b']);
    const byDefault = resolveRoute('chat', key('cheap'), routes);
    expect(byDefault.tier).toBe('cheap');
    expect(byDefault.candidates.map((c) => c.channel.record.id)).toEqual(['c']);
  });

  it('answers 404 for an unknown model and 403, naming the tier, for one without a target there', () => {
    expect(() => resolveRoute('nope', key('resale'), routes)).toThrow(expect.objectContaining({ code: 'model_not_found', status: 404 }));
    // A prefix that is not a tier is part of the model name.
    expect(() => resolveRoute('openai/chat', key('resale'), routes)).toThrow(expect.objectContaining({ code: 'model_not_found' }));
    expect(() => resolveRoute('orphan', key('resale'), routes)).toThrow(expect.objectContaining({ code: 'model_not_allowed', status: 403, message: expect.stringContaining('resale') }));
  });

  it('lists each usable model by name and by each tier it has', () => {
    const list = JSON.parse(routes.modelListBody) as { object: string; data: { id: string; created: number; owned_by: string }[] };
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id).sort()).toEqual(['chat', 'cheap/chat', 'resale/chat']);
    expect(list.data[0]).toMatchObject({ created: 1_700_000_000, owned_by: 'tollgate', object: 'model' });
  });

  it('keeps the newer table when a reload reads an older one (a stale replica, a late reply)', async () => {
    let stored = table(3);
    const stub = { getRouteTable: async () => stored } as unknown as StateStore;
    const holder = new RouteTableHolder(stub, masterKey, silentLogger);
    await holder.reload();
    stored = table(2);
    delete stored.models.chat;
    await holder.reload();
    expect(holder.version).toBe(3);
    expect(holder.model('chat')).toBeDefined();
  });
});
