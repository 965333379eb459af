// The local mode's front door: the HTTP adapter of the intake (as the webhook Lambda is API Gateway's), plus a
// health check, the status as JSON and the status page (`/` and a page per part, the ui adapter's).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest, WebhookResponse } from '../../core/intake/request.ts';
import { servePage } from '../ui/pages.ts';
import type { StatusPageSource } from '../ui/view.ts';
import type { Logger } from './logger.ts';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The intake: answers `POST /webhook`. */
  readonly webhook: (request: WebhookRequest) => Promise<WebhookResponse>;
  /** The body of `GET /status`. */
  readonly status: () => unknown | Promise<unknown>;
  /** What the status page (`GET /`, `GET /parts/...`) reads; without it, the server has no page. */
  readonly page?: StatusPageSource;
  /** The body of `GET /healthz`. */
  readonly health: () => unknown;
  /**
   * Bodies above this are refused with 413 before they reach the intake, which enforces the configured limit
   * itself (this is the transport's limit, as API Gateway's payload limit is the Lambda's).
   */
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and resolves once the requests in progress are answered. */
  close(): Promise<void>;
}

const send = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
};

/** Header values by lower-cased name (Node lower-cases them), repeated ones joined by `, `. */
function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The raw body, or undefined when it is over `limit` (the rest is drained, unread). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks, size);
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { logger } = options;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('request failed', { method: request.method, path: request.url, error });
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  // Requests are small and answered quickly; a client that sends nothing is dropped.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const method = request.method ?? 'GET';
    if (path === '/webhook') {
      if (method !== 'POST') return send(response, 405, { error: 'use POST' }, { allow: 'POST' });
      const body = await readBody(request, options.maxBodyBytes);
      if (body === undefined) {
        logger.warn('webhook body over the transport limit', { maxBodyBytes: options.maxBodyBytes });
        return send(response, 413, { error: `the body is over the limit of ${options.maxBodyBytes} bytes` });
      }
      const answer = await options.webhook({ headers: headersOf(request), body });
      return send(response, answer.status, answer.body);
    }
    if (path === '/healthz' || path === '/status') {
      if (method !== 'GET' && method !== 'HEAD') {
        return send(response, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
      }
      return send(response, 200, path === '/healthz' ? options.health() : await options.status());
    }
    request.resume();
    if (options.page !== undefined && (await servePage(request, response, options.page))) return;
    send(response, 404, {
      error: `not found: POST /webhook, GET /healthz or GET /status${options.page === undefined ? '' : ', or the status page at GET /'}`,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('HTTP server error', { error }));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Connections kept alive by a client in the middle of nothing are cut after a grace period.
      const cut = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(cut);
    },
  };
}
