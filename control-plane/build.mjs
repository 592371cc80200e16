// `npm run build:control-plane` (run by `npm start`): Tollgate's process as JavaScript that plain
// `node` runs, without compiling TypeScript at start: control-plane/dist/main.mjs, the worker thread
// embedded mode starts (worker.mjs) and the chunks they share. Without tsx in either thread the
// process holds about 100 MB less. Our workspace packages are bundled; npm packages stay imports.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const ownOrRelative = /^(\.|\/|@tollgate\/)/;

// Chunk names carry a hash: an earlier build's would stay beside this one's.
rmSync('control-plane/dist', { recursive: true, force: true });

await build({
  entryPoints: { main: 'control-plane/src/main.ts', worker: 'control-plane/src/thread/worker.ts' },
  outdir: 'control-plane/dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Error classes are told apart by name across the worker's message port and in GraphQL.
  keepNames: true,
  logLevel: 'warning',
  // Our workspace packages from their sources here (not through node_modules links).
  alias: { '@tollgate/shared': './shared/src', '@tollgate/data-plane': './data-plane/src' },
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'entry-point' || ownOrRelative.test(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
