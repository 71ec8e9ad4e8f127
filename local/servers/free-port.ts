// A TCP port that is free on 127.0.0.1 right now: the kernel picks one for a throwaway listener.
// Another process may take it before the caller binds it; servers started on such a port retry with a
// new one when the bind fails (see redis-server.ts, pubsub-emulator.ts).

import { createServer } from 'node:net';

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
