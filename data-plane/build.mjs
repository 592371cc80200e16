// `npm run build:data-plane`: the data plane as one JavaScript file (data-plane/dist/main.mjs) that
// plain `node` runs, without compiling TypeScript at start (tsx costs ~25 MB of memory and some CPU
// per request at run time). Our own workspace packages are bundled; npm packages stay imports.
import { build } from 'esbuild';

const ownOrRelative = /^(\.|\/|@tollgate\/)/;

await build({
  entryPoints: ['data-plane/src/main.ts'],
  outfile: 'data-plane/dist/main.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Our workspace packages from their sources here (not through node_modules links).
  alias: { '@tollgate/shared': './shared/src' },
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'entry-point' || ownOrRelative.test(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
