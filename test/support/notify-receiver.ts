// A loopback HTTP server that takes webhook deliveries as a receiver would: it records each request and answers
// as told (a status, or no answer at all), and checks a JSON webhook's signature with its own HMAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the receiver answers one request: a status and body, or never (the connection stays open). */
export type Answer = { readonly status: number; readonly body?: string } | 'hang';

export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly #server: Server;
  readonly #answers: Answer[] = [];
  readonly #hanging = new Set<ServerResponse>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        receiver?.record({ path: request.url ?? '', headers: request.headers, body }, response);
      });
    });
    receiver = new WebhookReceiver(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  /** `http://127.0.0.1:<port>` and the path. */
  url(path = '/'): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  /** The answers to the next requests, in order; after them, 200 `ok`. */
  answerNext(...answers: Answer[]): void {
    this.#answers.push(...answers);
  }

  /** The requests to one path. */
  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  /** Keeps a request and answers it. */
  record(request: Received, response: ServerResponse): void {
    this.received.push(request);
    const answer = this.#answers.shift() ?? { status: 200, body: 'ok' };
    if (answer === 'hang') {
      this.#hanging.add(response);
      return;
    }
    response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
  }
}

/** Whether `X-Ferry-Signature` is `sha256=` and the HMAC-SHA256 of the raw body under `key`, as a receiver checks. */
export function signatureValid(request: Received, key: string): boolean {
  const header = request.headers['x-ferry-signature'];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', key).update(request.body).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
