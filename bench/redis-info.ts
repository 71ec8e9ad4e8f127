import type { Redis } from 'ioredis';

/** `INFO <section>` as field → value (pure parser and a fetch). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function readInfo(redis: Redis, section: string): Promise<Map<string, string>> {
  return parseInfo(await redis.info(section));
}

export interface CommandStat {
  calls: number;
  usec: number;
  usecPerCall: number;
}

/** One command's line of `INFO commandstats`, e.g. `cmdstat_evalsha:calls=3,usec=120,usec_per_call=40.00,...`. */
export function commandStat(info: Map<string, string>, command: string): CommandStat | undefined {
  const line = info.get(`cmdstat_${command}`);
  if (line === undefined) return undefined;
  const values = new Map(line.split(',').map((pair) => pair.split('=') as [string, string]));
  return {
    calls: Number(values.get('calls')),
    usec: Number(values.get('usec')),
    usecPerCall: Number(values.get('usec_per_call')),
  };
}

/** Every command of `INFO commandstats` with calls (`config|resetstat` style subcommands included). */
export function commandStats(info: Map<string, string>): Map<string, CommandStat> {
  const stats = new Map<string, CommandStat>();
  for (const key of info.keys()) {
    if (!key.startsWith('cmdstat_')) continue;
    const command = key.slice('cmdstat_'.length);
    const stat = commandStat(info, command);
    if (stat && stat.calls > 0) stats.set(command, stat);
  }
  return stats;
}

/** Redis's own CPU seconds so far (user + system), from `INFO cpu`. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const cpu = await readInfo(redis, 'cpu');
  return Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'));
}
