import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts Redis, the Pub/Sub emulator and the GCS and BigQuery stand-ins once per run; tests read
    // their addresses through test/helpers/local-servers.ts.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup/known-warnings.ts'],
    // Integration tests wait on real servers (emulator push, redelivery backoff).
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    env: {
      // Google clients must never probe the GCE metadata server for credentials or a project.
      METADATA_SERVER_DETECTION: 'none',
    },
  },
});
