// `npm run dev` behaves like a deployment unless told otherwise, and runs without the simulator on
// request.

import { describe, expect, it } from 'vitest';
import { parseDevOptions } from '../../local/dev/dev-options.js';
import { loadConfig } from '../../shared/config.js';

describe('npm run dev options', () => {
  it.each([
    { argv: [], latenessS: 600, vehicles: 10, keep: false },
    { argv: ['--lateness', '120'], latenessS: 120, vehicles: 10, keep: false },
    { argv: ['--keep'], latenessS: 600, vehicles: 10, keep: true },
    // No simulator: the stack is there for your own devices and tools, so it stays up.
    { argv: ['--vehicles', '0'], latenessS: 600, vehicles: 0, keep: true },
  ])('$argv', ({ argv, latenessS, vehicles, keep }) => {
    const options = parseDevOptions(argv);
    expect(options).toMatchObject({ allowedLatenessS: latenessS, vehicles, keep });
  });

  it("defaults the allowed lateness to the functions' own default", () => {
    expect(parseDevOptions([]).allowedLatenessS * 1000).toBe(loadConfig({}).engine.allowedLatenessMs);
  });

  it('refuses a negative fleet', () => {
    expect(() => parseDevOptions(['--vehicles', '-1'])).toThrow(/--vehicles/);
  });
});
