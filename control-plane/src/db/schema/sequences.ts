import { pgSequence } from 'drizzle-orm/pg-core';

/** Versions of the published route table: monotonic across restarts and control-plane instances. */
export const routeTableVersion = pgSequence('route_table_version', { startWith: 1, increment: 1 });
