import { sql, type SQL } from 'drizzle-orm';
import { bigint, integer, text, type PgColumn } from 'drizzle-orm/pg-core';

/**
 * The columns of a set of limits (shared's `Limits`), for an API key and, as ceilings over all its
 * keys, for an org. Null means no limit. Credit limits are nanocredits per lifetime and per calendar
 * day, ISO week and month in UTC; rates are per minute. Published in the key record
 * (services/limits.ts) and enforced by the data plane.
 */
export function limitColumns() {
  return {
    /** Models it may use: exact public names, `tier/name`, `tier/*` or `*`; null: all. */
    models: text('models').array(),
    /** Client addresses and CIDR ranges it may be used from; null: any. */
    ipAllowlist: text('ip_allowlist').array(),
    requestsPerMinute: integer('rpm'),
    tokensPerMinute: integer('tpm'),
    concurrency: integer('concurrency'),
    creditLifetime: bigint('credit_lifetime', { mode: 'bigint' }),
    creditDay: bigint('credit_day', { mode: 'bigint' }),
    creditWeek: bigint('credit_week', { mode: 'bigint' }),
    creditMonth: bigint('credit_month', { mode: 'bigint' }),
  };
}

type LimitColumnRefs = Record<keyof ReturnType<typeof limitColumns>, PgColumn>;

/** What the data plane's decoder accepts: non-empty lists, rates of at least 1, amounts of at least 0. */
export function limitsCheck(t: LimitColumnRefs): SQL {
  const positive = (c: PgColumn) => sql`(${c} is null or ${c} > 0)`;
  const amount = (c: PgColumn) => sql`(${c} is null or ${c} >= 0)`;
  const list = (c: PgColumn) => sql`(${c} is null or cardinality(${c}) > 0)`;
  return sql.join(
    [
      list(t.models),
      list(t.ipAllowlist),
      positive(t.requestsPerMinute),
      positive(t.tokensPerMinute),
      positive(t.concurrency),
      amount(t.creditLifetime),
      amount(t.creditDay),
      amount(t.creditWeek),
      amount(t.creditMonth),
    ],
    sql` and `,
  );
}
