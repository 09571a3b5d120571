import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { resolve: ['@org/errors'] },
  sourcemap: true,
  clean: true,
  // @org/errors is internal (private): bundled, code and types, so the published package has no
  // dependency on it.
  noExternal: ['@org/errors'],
});
