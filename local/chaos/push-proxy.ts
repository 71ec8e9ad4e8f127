// Sits between the emulator's push subscription and the feature function, as Cloud Run's front end
// sits before an instance: forwards each push as it is and counts, per Pub/Sub message id, the
// deliveries and how they ended. The suite's backlog (published minus acknowledged), retry counts
// and "never stalls" come from here, since the emulator answers no backlog metrics. While the
// function is down (killed, restarting) a push gets 503, as from a front end with no instance.

import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DeliveryRecord {
  deliveries: number;
  failures: number;
  acknowledged: boolean;
}

export class PushProxy {
  readonly #deliveries = new Map<string, DeliveryRecord>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  #target: string;
  #server: Server | undefined;
  #acknowledged = 0;
  #lastAckAt = Date.now();
  /** The longest time without any acknowledgement while something was in flight or pending. */
  #maxAckGapMs = 0;
  #inFlight = 0;

  constructor(target: string) {
    this.#target = target;
  }

  /** The function's new URL after a restart. */
  retarget(url: string): void {
    this.#target = url;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get acknowledged(): number {
    return this.#acknowledged;
  }

  record(messageId: string): DeliveryRecord | undefined {
    return this.#deliveries.get(messageId);
  }

  records(): ReadonlyMap<string, DeliveryRecord> {
    return this.#deliveries;
  }

  /** Longest gap between acknowledgements seen so far (ms); reset with resetAckGap(). */
  maxAckGapMs(): number {
    return Math.max(this.#maxAckGapMs, this.#inFlight > 0 ? Date.now() - this.#lastAckAt : 0);
  }

  resetAckGap(): void {
    this.#maxAckGapMs = 0;
    this.#lastAckAt = Date.now();
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const messageId = messageIdOf(body);
        const record = this.#deliveries.get(messageId) ?? { deliveries: 0, failures: 0, acknowledged: false };
        record.deliveries++;
        this.#deliveries.set(messageId, record);
        this.#inFlight++;
        const finish = (status: number, answer: Buffer, headers: IncomingMessage['headers'] = {}) => {
          this.#inFlight--;
          if (status >= 200 && status < 300) {
            if (!record.acknowledged) this.#acknowledged++;
            record.acknowledged = true;
            const now = Date.now();
            this.#maxAckGapMs = Math.max(this.#maxAckGapMs, now - this.#lastAckAt);
            this.#lastAckAt = now;
          } else {
            record.failures++;
          }
          res.writeHead(status, { 'content-type': headers['content-type'] ?? 'text/plain' }).end(answer);
        };
        const target = new URL(req.url ?? '/', this.#target);
        const forward = httpRequest(
          target,
          { method: req.method, headers: { ...req.headers, host: target.host }, agent: this.#agent },
          (response) => {
            const parts: Buffer[] = [];
            response.on('data', (chunk: Buffer) => parts.push(chunk));
            response.on('end', () =>
              finish(response.statusCode ?? 502, Buffer.concat(parts), response.headers),
            );
            response.on('error', () => finish(503, Buffer.from('function connection lost')));
          },
        );
        forward.on('error', () => finish(503, Buffer.from('function unavailable')));
        forward.end(body);
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    this.#agent.destroy();
    await closed;
  }
}

function messageIdOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      message?: { messageId?: string; message_id?: string };
    };
    return parsed.message?.messageId ?? parsed.message?.message_id ?? '(unknown)';
  } catch {
    return '(unparsable)';
  }
}
