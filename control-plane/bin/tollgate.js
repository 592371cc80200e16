#!/usr/bin/env node
// The `tollgate` CLI. TypeScript runs through tsx (no build step), registered before the import.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
