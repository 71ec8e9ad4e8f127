// A TCP port that is free on 127.0.0.1 right now: the kernel picks one for a throwaway listener.
// Another process may take it before the caller binds it; servers started on such a port retry with a
// new one when the bind fails (startOnFreePort).

import { createServer } from 'node:net';
import { LocalServerError } from './local-server-error.js';

export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected listener address ${String(address)}`));
        return;
      }
      server.close((error) => (error ? reject(error) : resolve(address.port)));
    });
  });
}

/**
 * Starts a server on `fixedPort`, or on a free port picked here; a free port can be taken by
 * another process before the server binds it, so a lost race (PORT_IN_USE) picks a new port,
 * up to `attempts` times.
 */
export async function startOnFreePort<T>(
  fixedPort: number | undefined,
  start: (port: number) => Promise<T>,
  options: { host?: string; attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await getFreePort(options.host));
    try {
      return await start(port);
    } catch (error) {
      const lostPortRace =
        fixedPort === undefined &&
        attempt < attempts &&
        error instanceof LocalServerError &&
        error.code === 'PORT_IN_USE';
      if (!lostPortRace) throw error;
    }
  }
}
