import { readFileSync } from 'node:fs';
import { WINDOWS } from './window-spec.js';

/**
 * The Redis script that applies a vehicle's readings (apply-readings.lua, beside this file), with
 * the window table generated from WINDOWS so TypeScript and Lua share one definition. The build
 * copies the .lua file next to the compiled module.
 */
function buildScript(): string {
  for (let w = 1; w < WINDOWS.length; w++) {
    const finer = WINDOWS[w - 1]!;
    const coarser = WINDOWS[w]!;
    // An out-of-order row composes a window's current tile from the finer windows' tiles.
    if (coarser.tileMs % finer.tileMs !== 0 || coarser.lengthMs % coarser.tileMs !== 0) {
      throw new Error(
        `window ${coarser.name}: tiles must nest (${finer.tileMs} ms into ${coarser.tileMs} ms)`,
      );
    }
  }
  const table = WINDOWS.map((w) => `{ ${w.lengthMs}, ${w.tileMs} }`).join(', ');
  const source = readFileSync(new URL('./apply-readings.lua', import.meta.url), 'utf8');
  if (!source.includes('__WINDOWS__')) throw new Error('apply-readings.lua has no __WINDOWS__ placeholder');
  return source.replace('__WINDOWS__', table);
}

export const APPLY_READINGS_LUA = buildScript();
