// A throwaway redis-server for tests and the local stack: loopback only, no persistence unless asked
// (the chaos suite kills and restarts it with AOF), its own process group, stopped with stop().
// Ready once PING answers PONG (from this very process).

import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { startOnFreePort } from './free-port.js';
import { startProcessGroup } from './process-group.js';

export const REDIS_INSTALL_COMMAND =
  'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server';

export interface StartRedisOptions {
  /** Working directory and log directory of the server. */
  dir: string;
  /** Fixed port; by default a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  timeoutMs?: number;
  /**
   * Append-only file in `dir`, fsync'd on every write (`always`) or once a second (`everysec`), as
   * Memorystore's AOF persistence offers; a restart on the same dir replays it. Default: none.
   */
  appendfsync?: 'always' | 'everysec';
  /** Cluster mode (`cluster-enabled yes`), as Memorystore for Redis Cluster; slots left unassigned. */
  cluster?: boolean;
}

export interface RunningRedis {
  url: string;
  port: number;
  /** The server's process id (the leader of its process group). */
  pid: number;
  logPath: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startRedis(options: StartRedisOptions): Promise<RunningRedis> {
  mkdirSync(options.dir, { recursive: true });
  return startOnFreePort(options.port, (port) => startOnPort(options, port), { host: HOST });
}

async function startOnPort(options: StartRedisOptions, port: number): Promise<RunningRedis> {
  const group = await startProcessGroup({
    name: `redis-server-${port}`,
    command: 'redis-server',
    // Arguments rather than a config file: every setting that matters is visible in `ps`.
    args: [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--protected-mode',
      'no',
      '--save',
      '',
      '--appendonly',
      options.appendfsync === undefined ? 'no' : 'yes',
      ...(options.appendfsync === undefined ? [] : ['--appendfsync', options.appendfsync]),
      // A lone node does not know its address until it meets another; announce it for CLUSTER SLOTS.
      ...(options.cluster === true
        ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', HOST]
        : []),
      '--daemonize',
      'no',
      '--dir',
      options.dir,
    ],
    cwd: options.dir,
    logDir: options.dir,
    installHint: REDIS_INSTALL_COMMAND,
  });
  await group.waitUntilReady(() => answersPongAsProcess(port, group.pid), {
    what: 'PING answered with PONG',
    portInUsePattern: /Address already in use/i,
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid: group.pid,
    logPath: group.logPath,
    stop: () => group.stop({ graceMs: 2_000 }),
  };
}

/**
 * PING, and INFO to read the answering server's process id: a PONG from some other redis that owns
 * the port (we lost the race for it and ours has not logged its bind failure yet) does not count.
 * A raw socket: no client library, no reconnect logic to silence.
 */
function answersPongAsProcess(port: number, pid: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.startsWith('-')) return finish(false); // e.g. -LOADING: not ready yet
      const processId = /\r\nprocess_id:(\d+)\r\n/.exec(reply)?.[1];
      if (processId !== undefined) finish(reply.startsWith('+PONG\r\n') && Number(processId) === pid);
    });
  });
}
