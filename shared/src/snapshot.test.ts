import { describe, expect, it } from 'vitest';
import {
  byokCredentialAad,
  channelCredentialAad,
  decodeAnnouncement,
  encodeAnnouncement,
  encodeByokRecord,
  encodeKeyRecord,
  encodeRouteTable,
  isTier,
  type Announcement,
  type ByokRecord,
  type ChannelRecord,
  type KeyRecord,
  type RouteTable,
} from './snapshot.ts';
import { decodeByokRecord, decodeKeyRecord, decodeRouteTable, SnapshotFormatError } from './snapshot-decode.ts';

const keyRecord: KeyRecord = {
  v: 2, id: 'key-1', orgId: 'org-1', defaultTier: 'cheap', status: 'active', expiresAt: 1_800_000_000_000, allowedTiers: ['cheap', 'byok'], planId: 'plan-flat',
};

const byokRecord: ByokRecord = { v: 1, id: 'cred-1', orgId: 'org-1', provider: 'groq', credentialSealed: 'e1.kid.a.b.c.d' };

function channel(id: string, tier: ChannelRecord['tier']): ChannelRecord {
  return {
    id, name: `internal ${id}`, provider: 'openai', protocol: 'openai', baseUrl: 'https://api.openai.com/v1', tier,
    credentialSealed: 'e1.kid.a.b.c.d', enabled: true, timeouts: { connectMs: 1_000, firstByteMs: 2_000, idleMs: 3_000, totalMs: 4_000 },
    retries: 0, modelMap: { 'gpt-4o': 'gpt-4o-2024-08-06' }, extraHeaders: { 'http-referer': 'https://example.com' }, maxConcurrency: 8,
    allowPrivateNetwork: tier === 'cheap',
  };
}

const table: RouteTable = {
  v: 2,
  version: 42,
  channels: { 'ch-a': channel('ch-a', 'resale'), 'ch-b': channel('ch-b', 'cheap') },
  models: {
    'gpt-4o': {
      name: 'gpt-4o',
      prices: { resale: { input: '2500', output: '10000', images: [{ size: '1024x1024', quality: 'standard', price: '40000000' }] }, cheap: { input: '2000', output: '8000', cachedInput: '1000', cacheWrite: '2500', reasoning: '9000' } },
      maxOutputTokens: 16_384,
      targets: [
        { channelId: 'ch-a', upstreamModel: 'gpt-4o', priority: 0, weight: 3, cost: { input: '2000', output: '8000', cachedInput: '1000' } },
        { channelId: 'ch-b', upstreamModel: 'gpt-4o', priority: 1, weight: 1, cost: { input: '1500', output: '6000' } },
      ],
      byok: [{ provider: 'openai', upstreamModel: 'gpt-4o', listPrice: { input: '2500', output: '10000' } }],
      createdAt: 1_700_000_000_000,
      contextWindow: 128_000,
      capabilities: ['vision', 'tools'],
      aliases: ['gpt4o', 'omni'],
      markups: { cheap: 12_000 },
      orgMarkups: { 'org-1': { cheap: 11_000, resale: 10_500 } },
    },
    'gpt-4o-mini': { name: 'gpt-4o-mini', prices: {}, maxOutputTokens: 1, targets: [], byok: [], createdAt: 0 },
  },
  plans: {
    'plan-flat': {
      id: 'plan-flat', name: 'Flat', window: 'month', premiumAllowanceTokens: 5_000_000, concurrency: 4, continuationAllowed: true, fallbackAllowed: true,
      lanes: { premium: { model: 'gpt-4o', tier: 'resale' }, continuation: { model: 'gpt-4o-mini', tier: 'cheap' }, fallback: { model: 'gpt-4o', tier: 'byok' } },
    },
    'plan-small': {
      id: 'plan-small', name: 'Small', window: 'day', premiumAllowanceTokens: 0, concurrency: null, continuationAllowed: false, fallbackAllowed: false,
      lanes: { premium: { model: 'gpt-4o-mini', tier: 'cheap' }, continuation: null, fallback: null },
    },
  },
  byokFeeBps: 500,
};

// --- mutation helpers: every field of a valid record, replaced by values of the wrong type ------

type Path = (string | number)[];
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every path below the root (objects and arrays descended), with its value. */
function paths(value: unknown, prefix: Path = []): [Path, unknown][] {
  if (typeof value !== 'object' || value === null) return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[[...prefix, k], v] as [Path, unknown], ...paths(v, [...prefix, k])]);
}

function withValue(root: unknown, path: Path, value: unknown): unknown {
  const copy = clone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function without(root: unknown, path: Path): unknown {
  const copy = clone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  delete node[path[path.length - 1]!];
  return copy;
}

/** JSON values of another type than `original` (and numbers that are not non-negative safe integers). */
function wrongValues(original: unknown): unknown[] {
  if (typeof original === 'string') return [5, true, {}, []];
  if (typeof original === 'number') return ['1', true, {}, [], 1.5, -1, 2 ** 53];
  if (typeof original === 'boolean') return ['true', 1, {}, []];
  if (Array.isArray(original)) return [5, 'x', {}];
  // A null field is a nullable number or record: neither takes these.
  if (original === null) return ['x', true, {}, []];
  return [5, 'x', true, []];
}

const name = (path: Path): string => path.join('.');

/** The decoded value, or the name of the error decoding threw: one exact expectation either way. */
function outcome(decode: () => unknown): unknown {
  try {
    return { decoded: decode() };
  } catch (error) {
    return { refused: (error as Error).name };
  }
}
const decodeTable = (value: unknown): RouteTable => decodeRouteTable(JSON.stringify(value));

describe('key records', () => {
  it('decode what encode produced', () => {
    expect(decodeKeyRecord(encodeKeyRecord(keyRecord))).toEqual(keyRecord);
    const open: KeyRecord = { ...keyRecord, status: 'disabled', expiresAt: null, allowedTiers: null, planId: null };
    expect(decodeKeyRecord(encodeKeyRecord(open))).toEqual(open);
  });

  it('drop fields they do not know', () => {
    expect(decodeKeyRecord(JSON.stringify({ ...keyRecord, isAdmin: true }))).toEqual(keyRecord);
  });

  it.each(paths(keyRecord).map(([p, v]) => [name(p), p, v] as const))('refuse a wrong type in %s', (_name, path, original) => {
    for (const wrong of wrongValues(original)) {
      expect(() => decodeKeyRecord(JSON.stringify(withValue(keyRecord, path, wrong))), JSON.stringify(wrong)).toThrow(SnapshotFormatError);
    }
  });

  const nullableKeyFields = ['expiresAt', 'allowedTiers', 'planId'];

  it.each(paths(keyRecord).map(([p]) => [name(p), p] as const))('accept null in %s only if it is nullable', (field, path) => {
    const expected = nullableKeyFields.includes(field) ? { decoded: { ...keyRecord, [field]: null } } : { refused: 'SnapshotFormatError' };
    expect(outcome(() => decodeKeyRecord(JSON.stringify(withValue(keyRecord, path, null))))).toEqual(expected);
  });

  it.each(Object.keys(keyRecord))('read a missing %s as null if it is nullable, else refuse it', (field) => {
    const expected = nullableKeyFields.includes(field) ? { decoded: { ...keyRecord, [field]: null } } : { refused: 'SnapshotFormatError' };
    expect(outcome(() => decodeKeyRecord(JSON.stringify(without(keyRecord, [field]))))).toEqual(expected);
  });

  it.each([
    ['an older version', { ...keyRecord, v: 1 }],
    ['a newer version', { ...keyRecord, v: 3 }],
    ['an unknown status', { ...keyRecord, status: 'deleted' }],
    ['an unknown default tier', { ...keyRecord, defaultTier: 'gold' }],
    ['an unknown allowed tier', { ...keyRecord, allowedTiers: ['cheap', 'gold'] }],
    ['a tier that is not a list', { ...keyRecord, allowedTiers: 'cheap' }],
  ])('refuse %s', (_what, value) => {
    expect(() => decodeKeyRecord(JSON.stringify(value))).toThrow(SnapshotFormatError);
  });

  it.each(['null', '5', '"key"', '[]', '[{"v":2}]'])('refuse %s, which is not a record', (text) => {
    expect(() => decodeKeyRecord(text)).toThrow(SnapshotFormatError);
  });
});

describe('byok records', () => {
  it('decode what encode produced, dropping unknown fields', () => {
    expect(decodeByokRecord(encodeByokRecord(byokRecord))).toEqual(byokRecord);
    expect(decodeByokRecord(JSON.stringify({ ...byokRecord, apiKey: 'sk-plain' }))).toEqual(byokRecord);
  });

  it.each(paths(byokRecord).map(([p, v]) => [name(p), p, v] as const))('refuse a wrong type, null or nothing in %s', (_name, path, original) => {
    for (const wrong of [...wrongValues(original), null]) {
      expect(() => decodeByokRecord(JSON.stringify(withValue(byokRecord, path, wrong))), JSON.stringify(wrong)).toThrow(SnapshotFormatError);
    }
    expect(() => decodeByokRecord(JSON.stringify(without(byokRecord, path)))).toThrow(SnapshotFormatError);
  });

  it('refuse an unknown provider and another version', () => {
    expect(() => decodeByokRecord(JSON.stringify({ ...byokRecord, provider: 'acme' }))).toThrow(SnapshotFormatError);
    expect(() => decodeByokRecord(JSON.stringify({ ...byokRecord, v: 2 }))).toThrow(SnapshotFormatError);
    expect(() => decodeByokRecord('null')).toThrow(SnapshotFormatError);
  });
});

describe('route tables', () => {
  it('decode what encode produced', () => {
    expect(decodeRouteTable(encodeRouteTable(table))).toEqual(table);
  });

  it('drop fields they do not know, at every level', () => {
    const extra = clone(table) as unknown as Record<string, Record<string, Record<string, unknown>>>;
    extra.channels!['ch-a']!.apiKey = 'sk-plain';
    extra.models!['gpt-4o']!.secret = 1;
    extra.plans!['plan-flat']!.x = 1;
    (extra as Record<string, unknown>).operatorNotes = 'x';
    expect(decodeTable(extra)).toEqual(table);
  });

  const sections = ['channels', 'models', 'plans'];
  const inSection = (path: Path): boolean => sections.includes(String(path[0])) && path.length >= 2;
  const entry = (path: Path): string => `${path[0]}.${path[1]}`;
  const withoutEntry = (path: Path): RouteTable => without(table, path.slice(0, 2)) as RouteTable;

  /** Decodes, collecting what onSkip reported. */
  function decodeReporting(value: unknown): { decoded: RouteTable; skipped: string[] } {
    const skipped: string[] = [];
    const decoded = decodeRouteTable(JSON.stringify(value), (what, error) => {
      expect(error).toBeInstanceOf(SnapshotFormatError);
      skipped.push(what);
    });
    return { decoded, skipped };
  }

  const tablePaths = paths(table).map(([p, v]) => [name(p), p, v] as const);

  it.each(tablePaths.filter(([, p]) => inSection(p)))('leave out the entry with a wrong type in %s, report it, keep the rest', (_name, path, original) => {
    for (const wrong of wrongValues(original)) {
      const { decoded, skipped } = decodeReporting(withValue(table, path, wrong));
      expect(skipped, JSON.stringify(wrong)).toEqual([entry(path)]);
      expect(decoded).toEqual(withoutEntry(path));
    }
  });

  it.each(tablePaths.filter(([, p]) => !inSection(p)))('refuse the whole table for a wrong type in %s', (_name, path, original) => {
    for (const wrong of wrongValues(original)) {
      expect(() => decodeTable(withValue(table, path, wrong)), JSON.stringify(wrong)).toThrow(SnapshotFormatError);
    }
  });

  const nullablePlanField = /^(plans\.[\w-]+\.(concurrency|lanes\.continuation|lanes\.fallback)|models\.[\w-]+\.contextWindow)$/;
  const optionalPriceField = /\.(cost|listPrice|prices\.\w+)\.(cachedInput|cacheWrite|reasoning|images)$/;

  /** What decoding a table changed at `path` should give: the change, the entry left out, or a refusal. */
  function expected(path: Path, changed: unknown, accepted: boolean): unknown {
    if (accepted) return { decoded: changed, skipped: [] };
    if (inSection(path)) return { decoded: withoutEntry(path), skipped: [entry(path)] };
    return { refused: 'SnapshotFormatError' };
  }

  const tableOutcome = (value: unknown): unknown => {
    const result = outcome(() => decodeReporting(value)) as { decoded?: { decoded: RouteTable; skipped: string[] }; refused?: string };
    return result.decoded ?? result;
  };

  it.each(tablePaths)('accept null in %s only if it is nullable', (field, path) => {
    const changed = withValue(table, path, null);
    expect(tableOutcome(changed)).toEqual(expected(path, changed, nullablePlanField.test(field)));
  });

  // Entries of maps and lists may come and go; the fields of a record may not.
  const mapNames = ['channels', 'models', 'plans', 'modelMap', 'extraHeaders', 'prices', 'markups', 'orgMarkups'];
  const fieldPaths = tablePaths.filter(
    ([, p]) => typeof p[p.length - 1] !== 'number' && !mapNames.includes(String(p[p.length - 2])) && p[p.length - 3] !== 'orgMarkups',
  );

  // Fields newer than the table format: a table from an older control plane lacks them.
  const defaultedField = /^channels\.[\w-]+\.allowPrivateNetwork$/;
  // Fields a table from an older control plane lacks and that decode as absent.
  const optionalModelField = /^models\.[\w-]+\.(contextWindow|capabilities|aliases|markups|orgMarkups)$/;

  it.each(fieldPaths)('accept %s missing only if it is an optional price, a nullable field or one with a default', (field, path) => {
    const accepted = optionalPriceField.test(field) || nullablePlanField.test(field) || defaultedField.test(field) || optionalModelField.test(field);
    const changed = without(table, path);
    const read = optionalModelField.test(field) ? changed : nullablePlanField.test(field) ? withValue(table, path, null) : defaultedField.test(field) ? withValue(table, path, false) : changed;
    expect(tableOutcome(changed)).toEqual(expected(path, read, accepted));
  });

  it('read a channel published before allowPrivateNetwork existed as public-only', () => {
    const old = without(table, ['channels', 'ch-b', 'allowPrivateNetwork']);
    expect(table.channels['ch-b']!.allowPrivateNetwork).toBe(true);
    expect(decodeTable(old).channels['ch-b']!.allowPrivateNetwork).toBe(false);
  });

  it('read image prices, and a price from before them as selling no images', () => {
    expect(decodeTable(table).models['gpt-4o']!.prices.resale).toEqual({ input: '2500', output: '10000', images: [{ size: '1024x1024', quality: 'standard', price: '40000000' }] });
    expect('images' in decodeTable(without(table, ['models', 'gpt-4o', 'prices', 'resale', 'images'])).models['gpt-4o']!.prices.resale!).toBe(false);
    const { decoded, skipped } = decodeReporting(withValue(table, ['models', 'gpt-4o', 'prices', 'resale', 'images', 0, 'price'], '0.04'));
    expect([skipped, decoded.models['gpt-4o']]).toEqual([['models.gpt-4o'], undefined]);
  });

  it('read a model from before context windows, capabilities and aliases without them, and drop a capability it does not know', () => {
    let old = without(table, ['models', 'gpt-4o', 'contextWindow']);
    old = without(old, ['models', 'gpt-4o', 'capabilities']);
    old = without(old, ['models', 'gpt-4o', 'aliases']);
    const model = decodeTable(old).models['gpt-4o']!;
    expect([model.contextWindow, model.capabilities, model.aliases]).toEqual([undefined, undefined, undefined]);
    expect(decodeTable(withValue(table, ['models', 'gpt-4o', 'capabilities'], ['tools', 'telepathy'])).models['gpt-4o']!.capabilities).toEqual(['tools']);
  });

  it('read a model from before markups as priced by its prices only', () => {
    const old = without(without(table, ['models', 'gpt-4o', 'markups']), ['models', 'gpt-4o', 'orgMarkups']);
    const model = decodeTable(old).models['gpt-4o']!;
    expect(['markups' in model, 'orgMarkups' in model, model.prices]).toEqual([false, false, table.models['gpt-4o']!.prices]);
  });

  it('refuse a channel of tier byok: byok requests use only the org own credentials', () => {
    const byokChannel = withValue(table, ['channels', 'ch-b', 'tier'], 'byok');
    const skipped: [string, string][] = [];
    const decoded = decodeRouteTable(JSON.stringify(byokChannel), (what, error) => skipped.push([what, error.message]));
    expect(decoded.channels).toEqual({ 'ch-a': table.channels['ch-a'] });
    expect(decoded.models).toEqual(table.models);
    expect(skipped).toEqual([['channels.ch-b', 'channel ch-b cannot be a byok channel']]);
  });

  it.each([
    ['a channel of an unknown tier', ['channels', 'ch-a', 'tier'], 'gold', 'channels.ch-a'],
    ['a channel of an unknown protocol', ['channels', 'ch-a', 'protocol'], 'grpc', 'channels.ch-a'],
    ['a channel of an unknown provider', ['channels', 'ch-a', 'provider'], 'acme', 'channels.ch-a'],
    ['a zero timeout', ['channels', 'ch-a', 'timeouts', 'idleMs'], 0, 'channels.ch-a'],
    ['a zero concurrency', ['channels', 'ch-a', 'maxConcurrency'], 0, 'channels.ch-a'],
    ['a byok price', ['models', 'gpt-4o', 'prices', 'byok'], { input: '1', output: '1' }, 'models.gpt-4o'],
    ['a price of an unknown tier', ['models', 'gpt-4o', 'prices', 'gold'], { input: '1', output: '1' }, 'models.gpt-4o'],
    ['a byok target of an unknown provider', ['models', 'gpt-4o', 'byok', 0, 'provider'], 'acme', 'models.gpt-4o'],
    ['a zero output cap', ['models', 'gpt-4o', 'maxOutputTokens'], 0, 'models.gpt-4o'],
    ['a byok markup', ['models', 'gpt-4o', 'markups', 'byok'], 12_000, 'models.gpt-4o'],
    ['an org markup of an unknown tier', ['models', 'gpt-4o', 'orgMarkups', 'org-1', 'gold'], 12_000, 'models.gpt-4o'],
    ['a negative markup', ['models', 'gpt-4o', 'orgMarkups', 'org-1', 'resale'], -1, 'models.gpt-4o'],
    ['an unknown window', ['plans', 'plan-small', 'window'], 'year', 'plans.plan-small'],
    ['a zero plan concurrency', ['plans', 'plan-small', 'concurrency'], 0, 'plans.plan-small'],
    ['a lane of an unknown tier', ['plans', 'plan-flat', 'lanes', 'premium', 'tier'], 'gold', 'plans.plan-flat'],
  ] as const)('leave out %s and report it', (_what, path, value, reported) => {
    const { decoded, skipped } = decodeReporting(withValue(table, [...path], value));
    expect(skipped).toEqual([reported]);
    expect(decoded).toEqual(withoutEntry([...path]));
  });

  it('report every bad entry and keep every good one, in one pass', () => {
    let broken = withValue(table, ['channels', 'ch-b', 'retries'], -1);
    broken = withValue(broken, ['models', 'gpt-4o-mini', 'targets'], {});
    broken = withValue(broken, ['plans', 'plan-flat', 'lanes'], null);
    const { decoded, skipped } = decodeReporting(broken);
    expect(skipped).toEqual(['channels.ch-b', 'models.gpt-4o-mini', 'plans.plan-flat']);
    expect(decoded).toEqual({
      ...table,
      channels: { 'ch-a': table.channels['ch-a'] },
      models: { 'gpt-4o': table.models['gpt-4o'] },
      plans: { 'plan-small': table.plans['plan-small'] },
    });
  });

  it('skip silently without a listener', () => {
    expect(decodeRouteTable(JSON.stringify(withValue(table, ['channels', 'ch-b', 'tier'], 'byok'))).channels).toEqual({ 'ch-a': table.channels['ch-a'] });
  });

  it.each([
    ['version 1', { ...table, v: 1 }],
    ['no version', without(table, ['version'])],
    ['channels that are a list', { ...table, channels: [] }],
    ['no plans', without(table, ['plans'])],
  ])('refuse a table with %s', (_what, value) => {
    expect(() => decodeTable(value)).toThrow(SnapshotFormatError);
  });

  it.each(['null', '[]', '"routes"', '42'])('refuse %s, which is not a table', (text) => {
    expect(() => decodeRouteTable(text)).toThrow(SnapshotFormatError);
  });
});

describe('announcements', () => {
  const all: Announcement[] = [
    { kind: 'key', hash: 'abc' },
    { kind: 'routes', version: 7 },
    { kind: 'byok', orgId: 'org-1', provider: 'openai' },
    { kind: 'breaker', channelId: 'ch-1' },
  ];

  it.each(all.map((a) => [a.kind, a] as const))('decode a %s announcement from its encoding', (_kind, announcement) => {
    expect(decodeAnnouncement(encodeAnnouncement(announcement))).toEqual(announcement);
  });

  it('keep only the fields of the kind', () => {
    expect(decodeAnnouncement('{"kind":"key","hash":"h","version":3}')).toEqual({ kind: 'key', hash: 'h' });
  });

  it.each([
    'not json',
    'null',
    '5',
    '"key"',
    '[]',
    '{}',
    '{"kind":"key"}',
    '{"kind":"key","hash":5}',
    '{"kind":"routes","version":"7"}',
    '{"kind":"byok","orgId":"org-1"}',
    '{"kind":"byok","orgId":1,"provider":"openai"}',
    '{"kind":"breaker","channelId":null}',
    '{"kind":"flush"}',
  ])('read %s as nothing (the subscriber resyncs)', (text) => {
    expect(decodeAnnouncement(text)).toBeNull();
  });
});

describe('credential binding', () => {
  it('binds channel and byok credentials to different associated data', () => {
    expect(channelCredentialAad('ch-1')).toBe('channel:ch-1');
    expect(byokCredentialAad('org-1', 'cred-1')).toBe('byok:org-1:cred-1');
    expect(byokCredentialAad('org-1', 'cred-1')).not.toBe(byokCredentialAad('org-2', 'cred-1'));
  });

  it('knows the three tiers', () => {
    expect(['cheap', 'resale', 'byok'].every(isTier)).toBe(true);
    expect(['', 'auto', 'Cheap'].some(isTier)).toBe(false);
  });
});
