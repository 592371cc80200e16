import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN.md: dependencies point one way (data-plane -> shared, control-plane -> shared); neither
 * plane imports the other, except the embedded launcher, which starts the data plane in-process.
 */
const root = join(import.meta.dirname, '..');
const EMBEDDED_LAUNCHER = 'control-plane/src/embedded.ts';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(name)) out.push(path);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) found.push(match[1]!);
  return found;
}

function crossings(dir: string, forbidden: { pkg: string; dir: string }[]): string[] {
  const bad: string[] = [];
  for (const file of sourceFiles(dir)) {
    for (const spec of imports(file)) {
      const resolved = spec.startsWith('.') ? relative(root, join(root, file, '..', spec)) : spec;
      for (const f of forbidden) {
        if (resolved.startsWith(f.pkg) || resolved.startsWith(`${f.dir}/`)) bad.push(`${file} imports ${spec}`);
      }
    }
  }
  return bad;
}

describe('package boundaries', () => {
  it('shared imports neither plane', () => {
    expect(crossings('shared/src', [
      { pkg: '@tollgate/control-plane', dir: 'control-plane' },
      { pkg: '@tollgate/data-plane', dir: 'data-plane' },
    ])).toEqual([]);
  });

  it('the data plane never imports the control plane', () => {
    expect(crossings('data-plane/src', [{ pkg: '@tollgate/control-plane', dir: 'control-plane' }])).toEqual([]);
  });

  it('the control plane imports the data plane only from the embedded launcher', () => {
    const bad = crossings('control-plane', [{ pkg: '@tollgate/data-plane', dir: 'data-plane' }]);
    expect(bad.filter((line) => !line.startsWith(`${EMBEDDED_LAUNCHER} `))).toEqual([]);
  });

  it('the data plane has no Postgres driver', () => {
    const drivers = sourceFiles('data-plane/src').flatMap((f) => imports(f).filter((s) => /^(pg|drizzle-orm|@electric-sql\/pglite)/.test(s)));
    expect(drivers).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(root, 'data-plane/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('pg');
  });
});
