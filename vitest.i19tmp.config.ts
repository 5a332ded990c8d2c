import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: { root: '/work/wt/i19', include: ['test/conformance/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
});
