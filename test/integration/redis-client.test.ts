// The functions' Redis client while Redis is unreachable: commands fail (their callers redeliver or
// answer 503), and the connection errors become one warning per interval, not an "Unhandled error
// event" per reconnect attempt.
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createRedisClient } from '../../shared/adapters/redis-client.js';
import { waitUntil } from '../helpers/wait-until.js';

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('createRedisClient with Redis unreachable', () => {
  it('fails the command and logs the connection errors once per interval', async () => {
    const warn = vi.fn();
    const consoleError = vi.spyOn(console, 'error');
    const client = createRedisClient(
      { redisUrl: `redis://127.0.0.1:${await closedPort()}`, redisCluster: false },
      { warn },
    );
    try {
      await expect(client.ping()).rejects.toThrow();
      // Several reconnect attempts have failed by now; one entry stands for all of them.
      await waitUntil(() => warn.mock.calls.length > 0, { what: 'a connection warning' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[1]).toBe('redis connection error');
      expect(consoleError.mock.calls.flat().join(' ')).not.toMatch(/Unhandled error event/);
    } finally {
      client.disconnect();
      consoleError.mockRestore();
    }
  });
});
