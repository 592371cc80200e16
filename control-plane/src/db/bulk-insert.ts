import { getTableColumns, sql, type InferInsertModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

/**
 * `INSERT ... SELECT * FROM ROWS FROM (unnest(...), ...) ON CONFLICT (...) DO NOTHING`: many rows in
 * one statement with one parameter per column instead of one per value (drizzle's `values(rows)`:
 * 31 parameters a usage record, and a query object built for each). Postgres parses and plans a
 * statement of a few parameters however many rows it carries.
 *
 * Each column travels as one text parameter: an array literal cast to the column's array type, or,
 * for a jsonb column without NULLs, one JSON document of all the rows' values, split by
 * jsonb_array_elements (Postgres reads one document several times faster than a jsonb[] literal,
 * which parses every element on its own). Text and a cast, so both drivers (node-postgres,
 * PGlite) pass the value exactly as written here.
 *
 * Every row must give every column it names (the first row's): there is no per-row DEFAULT here,
 * so a column some rows left out would be NULL for them. Rows are inserted in `orderBy` order, so
 * two transactions inserting overlapping keys wait for each other in one order, never in a cycle.
 */
export function insertIgnoringConflicts<T extends PgTable>(table: T, rows: readonly InferInsertModel<T>[], options: { conflict: PgColumn; orderBy: PgColumn }): SQL {
  const all = getTableColumns(table) as Record<string, PgColumn>;
  const keys = Object.keys(rows[0] ?? {});
  if (keys.length === 0) throw new Error('insertIgnoringConflicts: no rows, or rows without columns');
  const sources = keys.map((key) => {
    const column = all[key];
    if (!column) throw new Error(`insertIgnoringConflicts: ${key} is not a column of the table`);
    const texts = rows.map((row, n) => {
      const value = (row as Record<string, unknown>)[key];
      if (value === undefined) throw new Error(`insertIgnoringConflicts: row ${n} gives no ${key} (every row must give the same columns)`);
      return textOf(column, value);
    });
    const type = column.getSQLType();
    if (type === 'jsonb' && !texts.includes(null)) return sql`jsonb_array_elements(${`[${texts.join(',')}]`}::text::jsonb)`;
    return sql`unnest(${arrayLiteral(texts)}::text::${sql.raw(`${type}[]`)})`;
  });
  const names = sql.raw(keys.map((key) => `"${all[key]!.name}"`).join(', '));
  return sql`insert into ${table} (${names}) select * from rows from (${sql.join(sources, sql`, `)}) as r(${names}) order by r."${sql.raw(options.orderBy.name)}" on conflict ("${sql.raw(options.conflict.name)}") do nothing`;
}

/** A value as Postgres reads it in text form, after the column's own driver mapping (dates, bigints); JSON for objects. */
function textOf(column: PgColumn, value: unknown): string | null {
  if (value === null) return null;
  const driver: unknown = column.mapToDriverValue(value);
  if (typeof driver === 'string') return driver;
  if (driver instanceof Date) return driver.toISOString();
  if (driver !== null && typeof driver === 'object') return JSON.stringify(driver);
  return String(driver);
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/** A one-dimensional array literal: every element quoted (backslash and quote escaped), NULL unquoted. */
export function arrayLiteral(values: readonly (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string | null;
    parts[i] = value === null ? 'NULL' : `"${NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, '\\$&') : value}"`;
  }
  return `{${parts.join(',')}}`;
}
