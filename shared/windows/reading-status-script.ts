import { readFileSync } from 'node:fs';
import { WINDOWS } from './window-spec.js';

/**
 * The read-only Redis script that tells what became of some readings of a vehicle
 * (reading-status.lua, beside this file), with the same window table as apply-readings.lua: the
 * entries it reads sit after the tile rings, whose size follows from the windows.
 */
function buildScript(): string {
  const table = WINDOWS.map((w) => `{ ${w.lengthMs}, ${w.tileMs} }`).join(', ');
  const source = readFileSync(new URL('./reading-status.lua', import.meta.url), 'utf8');
  if (!source.includes('__WINDOWS__')) throw new Error('reading-status.lua has no __WINDOWS__ placeholder');
  return source.replace('__WINDOWS__', table);
}

export const READING_STATUS_LUA = buildScript();
