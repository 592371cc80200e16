/**
 * graphql-js, imported by file so every importer shares one instance. graphql 16 ships CommonJS
 * (`index.js`) and ESM (`index.mjs`) without an exports map: Node loads `index.js` for Pothos and
 * yoga, while vite (under vitest) would resolve a bare `graphql` to `index.mjs`, and graphql-js
 * refuses types from the other copy ("Cannot use GraphQLObjectType from another module or realm").
 */
export { GraphQLError, Kind, lexicographicSortSchema, printSchema } from 'graphql/index.js';
