// One vitest setup for every workspace: tests import `@nabla/*` from source (the `source` export
// condition), so `npm test` never runs against a stale build.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'default'] } },
  test: {
    setupFiles: ['reflect-metadata'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
