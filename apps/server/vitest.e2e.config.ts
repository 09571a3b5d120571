import { defineProject } from 'vitest/config';

// End-to-end tests: a real server process (apps/server/dist/main.js, built by `pnpm test`),
// real ffmpeg/GStreamer publishers, real ffprobe and Chromium. Slow, so run one file at a time.
export default defineProject({
  resolve: { conditions: ['@org/source'] },
  ssr: { resolve: { conditions: ['@org/source'] } },
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
