import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './schema/index.ts';

/** The executable schema, sorted so the printed SDL is stable. */
export const schema = lexicographicSortSchema(builder.toSchema());
