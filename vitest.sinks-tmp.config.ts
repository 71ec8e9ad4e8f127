import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/**/*.test.ts'], pool: 'forks', env: { METADATA_SERVER_DETECTION: 'none' } } });
