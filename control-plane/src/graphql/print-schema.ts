import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { schema } from './schema.ts';

/** `npm run schema:print`: rewrites control-plane/schema.graphql, which the console builds against. */
export const SCHEMA_FILE = join(import.meta.dirname, '..', '..', 'schema.graphql');

export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, printedSchema());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
