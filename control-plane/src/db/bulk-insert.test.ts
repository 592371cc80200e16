import { sql } from 'drizzle-orm';
import { bigint, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestService } from '../../../test/support/services.ts';
import { arrayLiteral, insertIgnoringConflicts } from './bulk-insert.ts';
import { openDatabase, type Database } from './connect.ts';

// A table of the test's own, so every kind of value the helper encodes is checked on its own.
const samples = pgTable('bulk_insert_samples', {
  id: text('id').primaryKey(),
  label: text('label'),
  amount: bigint('amount', { mode: 'bigint' }).notNull(),
  at: timestamp('at', { withTimezone: true }).notNull(),
  doc: jsonb('doc').$type<unknown>(),
});

const TRICKY = ['a"b', 'back\\slash', '{braces},comma', 'NULL', '', ' spaced ', 'line\nbreak', 'ünïcödé 模型 🚀', "it's"];

const rows = (prefix: string) =>
  TRICKY.map((label, i) => ({
    id: `${prefix}-${i}`,
    label,
    amount: 2n ** 62n + BigInt(i),
    at: new Date(1_700_000_000_000 + i),
    doc: { label, nested: [label, { quote: '"', slash: '\\' }], n: i },
  }));

describe.each(['pglite', 'postgres'] as const)('insertIgnoringConflicts over %s', (kind) => {
  let database: Database;
  let service: TestService | null = null;

  beforeAll(async () => {
    service = kind === 'postgres' ? await createTestDatabase() : null;
    database = await openDatabase(service ? { databaseUrl: service.url, dataDir: '/nonexistent' } : { inMemory: true });
    await database.db.execute(sql`create table bulk_insert_samples (id text primary key, label text, amount bigint not null, at timestamptz not null, doc jsonb)`);
  });
  afterAll(async () => {
    await database?.close();
    await service?.cleanup();
  });

  const read = (prefix: string) =>
    database.db.select().from(samples).where(sql`${samples.id} like ${`${prefix}-%`}`).orderBy(samples.id);

  it('writes every value exactly as given: quotes, backslashes, braces, the text NULL, unicode, 64-bit amounts, JSON', async () => {
    const given = rows('exact');
    await database.db.execute(insertIgnoringConflicts(samples, given, { conflict: samples.id, orderBy: samples.id }));
    expect(await read('exact')).toEqual(given);
  });

  it('writes SQL NULL for null values (jsonb too), and JSON null inside a document as JSON', async () => {
    const given = [
      { id: 'nulls-1', label: null, amount: 1n, at: new Date(0), doc: null },
      { id: 'nulls-2', label: 'y', amount: 2n, at: new Date(0), doc: { value: null } },
    ];
    await database.db.execute(insertIgnoringConflicts(samples, given, { conflict: samples.id, orderBy: samples.id }));
    expect(await read('nulls')).toEqual(given);
    const sqlNulls = await database.db.execute(sql`select id from bulk_insert_samples where id like 'nulls-%' and doc is null and label is null`);
    expect((sqlNulls as unknown as { rows: { id: string }[] }).rows.map((r) => r.id)).toEqual(['nulls-1']);
  });

  it('leaves rows already there untouched and inserts the others', async () => {
    const first = rows('again').slice(0, 3);
    await database.db.execute(insertIgnoringConflicts(samples, first, { conflict: samples.id, orderBy: samples.id }));
    const changed = rows('again').map((r) => ({ ...r, label: 'changed' }));
    await database.db.execute(insertIgnoringConflicts(samples, changed, { conflict: samples.id, orderBy: samples.id }));
    const stored = await read('again');
    expect(stored).toHaveLength(TRICKY.length);
    expect(stored.slice(0, 3)).toEqual(first);
    expect(stored.slice(3).every((r) => r.label === 'changed')).toBe(true);
  });

  it('refuses rows that do not all give the same columns (a missing one would be NULL, not its default)', () => {
    const uneven = [{ id: 'u-1', label: 'a', amount: 1n, at: new Date(0), doc: null }, { id: 'u-2', amount: 1n, at: new Date(0), doc: null }];
    expect(() => insertIgnoringConflicts(samples, uneven, { conflict: samples.id, orderBy: samples.id })).toThrow(/row 1 gives no label/);
  });
});

describe('arrayLiteral', () => {
  it('quotes every element, escapes backslashes and quotes, and writes NULL unquoted', () => {
    expect(arrayLiteral(['plain', 'a"b', 'c\\d', 'NULL', null, ''])).toBe('{"plain","a\\"b","c\\\\d","NULL",NULL,""}');
    expect(arrayLiteral([])).toBe('{}');
  });
});
