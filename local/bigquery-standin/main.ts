// CLI: npx tsx local/bigquery-standin/main.ts --db FILE|:memory: [--port P] [--host H] [--project ID]
//      [--insert-id-window-ms MS]
import { parseArgs } from 'node:util';
import { startBigQueryStandin } from './index.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    project: { type: 'string' },
    'insert-id-window-ms': { type: 'string' },
  },
});
const window = values['insert-id-window-ms'];
if (!values.db || !/^\d+$/.test(values.port) || (window !== undefined && !/^\d+$/.test(window))) {
  process.stderr.write(
    'usage: main.ts --db FILE|:memory: [--port P] [--host H] [--project ID] [--insert-id-window-ms MS]\n',
  );
  process.exit(2);
}
const standin = await startBigQueryStandin({
  dbPath: values.db,
  port: Number(values.port),
  host: values.host,
  ...(values.project !== undefined ? { defaultProjectId: values.project } : {}),
  ...(window !== undefined ? { insertIdWindowMs: Number(window) } : {}),
});
process.stdout.write(
  `${JSON.stringify({ message: 'bigquery stand-in listening', url: standin.url, dbPath: standin.dbPath })}\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void standin.close().then(() => process.exit(0));
  });
}
