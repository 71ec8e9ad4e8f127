// Polls until a condition holds, for outcomes that arrive asynchronously from a real server (a push
// delivery, a dead-lettered message). The deadline only bounds a hung test; it is not an assertion
// about speed.

import { setTimeout as sleep } from 'node:timers/promises';

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  options: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting until ${options.what}`);
    await sleep(options.intervalMs ?? 25);
  }
}
