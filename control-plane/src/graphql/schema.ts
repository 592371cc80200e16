import { lexicographicSortSchema } from 'graphql';
import { withAuditLog } from './audit.ts';
import { builder } from './builder.ts';
import './schema/index.ts';

/** The executable schema, sorted so the printed SDL is stable; every mutation is audited. */
export const schema = withAuditLog(lexicographicSortSchema(builder.toSchema()));
