import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per package.json "exports" subpath; dist/ mirrors the subpaths.
  entry: {
    index: 'src/index.ts',
    'sim/index': 'src/sim/index.ts',
    'fetch/index': 'src/fetch/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/arbitraries': 'src/testing/arbitraries.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  treeshake: true,
  // Code shared by several entries (the core, the balancers `loadwise/sim` drives) goes to one
  // chunk per format, so `loadwise` and `loadwise/sim` share classes: `instanceof NoTargetError`
  // holds across them, and the simulator does not ship a second copy of every balancer.
  splitting: true,
  // Optional peer dependency of `loadwise/testing/arbitraries`, never bundled.
  external: ['fast-check'],
});
