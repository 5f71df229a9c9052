import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Lives under tests/ so the top level stays as the foundation issue lists it.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
