/**
 * Rewrites the .eventstream captures from captures.ts:
 *   node --import tsx shared/src/providers/bedrock/__fixtures__/write-captures.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCaptures } from './captures.ts';

for (const [file, bytes] of Object.entries(buildCaptures())) writeFileSync(join(import.meta.dirname, file), bytes);
