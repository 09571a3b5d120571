import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@org/source'] },
  ssr: { resolve: { conditions: ['@org/source'] } },
  test: {
    name: 'server',
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
  },
});
