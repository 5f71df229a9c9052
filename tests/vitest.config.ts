import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Lives under tests/ so the top level stays as the foundation issue lists it.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['tests/**/*.test.ts'],
    // Deadlines for a test that hangs, not time limits: a loaded 2-core machine (CI beside other work) runs
    // the slowest tests at a third of their quiet speed, and a test must wait for what it needs, however late.
    // They cost nothing when tests pass: the suite takes 10 to 11 minutes on a quiet machine either way.
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
