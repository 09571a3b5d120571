/**
 * The list of Vitest projects, one per workspace (plus the slow end-to-end suite).
 *
 * Vitest 4 no longer reads this file on its own; `vitest.config.ts` imports it and
 * passes it as `test.projects`, and `scripts/run-tests.mjs` fails the run when any
 * project listed here ran no test.
 */
export default [
  'packages/rtmp',
  'packages/flv',
  'packages/auth',
  'packages/errors',
  'packages/hls',
  'apps/server',
  'apps/server/vitest.e2e.config.ts',
];
