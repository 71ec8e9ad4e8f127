// CLI: npx tsx local/gcs-standin/main.ts --root DIR [--port P] [--host H]
import { parseArgs } from 'node:util';
import { startGcsStandin } from './index.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.root || !/^\d+$/.test(values.port)) {
  process.stderr.write('usage: main.ts --root DIR [--port P] [--host H]\n');
  process.exit(2);
}
const standin = await startGcsStandin({ root: values.root, port: Number(values.port), host: values.host });
process.stdout.write(
  `${JSON.stringify({ message: 'gcs stand-in listening', url: standin.url, root: standin.root })}\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void standin.close().then(() => process.exit(0));
  });
}
