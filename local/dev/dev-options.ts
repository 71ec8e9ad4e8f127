// Command-line options of `npm run dev`, validated in one place.

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../../shared/config.js';

/** The functions' own default (ALLOWED_LATENESS_S in shared/config.ts): the stack behaves like a deployment. */
const DEFAULT_LATENESS_S = loadConfig({}).engine.allowedLatenessMs / 1000;

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number {
  const match = durationPattern.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use e.g. 30s, 2m, 1h`);
  return Number(match[1]) * unitMs[match[2] ?? 's']!;
}

const DevOptionsSchema = z.object({
  durationMs: z
    .number()
    .min(1000, 'duration must be at least 1s')
    .max(24 * 3_600_000),
  vehicles: z.number().int().min(0).max(10_000),
  rateHz: z.number().positive().max(50),
  speedup: z.number().min(1).max(1000),
  uploadEveryS: z.number().min(0).max(3600),
  seed: z.number().int(),
  allowedLatenessS: z.number().int().positive(),
  dataDir: z.string().min(1),
  keep: z.boolean(),
  viaGateway: z
    .number()
    .min(0, 'via-gateway is a share from 0 to 1')
    .max(1, 'via-gateway is a share from 0 to 1'),
  dashboardPort: z.number().int().min(0).max(65_535),
});
export type DevOptions = z.infer<typeof DevOptionsSchema>;

export const DEV_USAGE = `usage: npm run dev -- [options]
  --duration 60s      how long devices send (wall clock)            (default 60s)
  --vehicles 10       simulated vehicles                              (default 10)
                      0 = no simulator: the stack serves your own devices and tools until Ctrl-C
  --rate 1            readings per second per vehicle, event time     (default 1)
  --speedup 10        event time runs this much faster than the wall  (default 10)
  --upload-every 5    seconds of event time a vehicle buffers per message (default 5; 0 = one reading per message)
  --seed 1            simulator seed                                  (default 1)
  --lateness 600      allowed lateness in seconds                     (default ${DEFAULT_LATENESS_S}, the functions' own)
  --data-dir DIR      where the warehouse and objects go  (default .local/dev)
  --keep              keep servers running after the summary until Ctrl-C (see <data-dir>/stack.json)
  --via-gateway 0.2   share of the vehicles that send through the ingest gateway (signed HTTPS) (default 0.2; 0 = none)
  --dashboard-port 0  port of the dashboard on 127.0.0.1 (default 0: a free port; its URL is printed)`;

export function parseDevOptions(argv: string[]): DevOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '60s' },
      vehicles: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1' },
      speedup: { type: 'string', default: '10' },
      'upload-every': { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      lateness: { type: 'string', default: String(DEFAULT_LATENESS_S) },
      'data-dir': { type: 'string', default: '.local/dev' },
      keep: { type: 'boolean', default: false },
      'via-gateway': { type: 'string', default: '0.2' },
      'dashboard-port': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(DEV_USAGE);
    process.exit(0);
  }
  const parsed = DevOptionsSchema.safeParse({
    durationMs: parseDurationMs(values.duration),
    vehicles: Number(values.vehicles),
    rateHz: Number(values.rate),
    speedup: Number(values.speedup),
    uploadEveryS: Number(values['upload-every']),
    seed: Number(values.seed),
    allowedLatenessS: Number(values.lateness),
    dataDir: values['data-dir'],
    keep: values.keep || Number(values.vehicles) === 0,
    viaGateway: Number(values['via-gateway']),
    dashboardPort: Number(values['dashboard-port']),
  });
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
