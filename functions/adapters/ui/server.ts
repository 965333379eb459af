// The status page on a server of its own (`ferry ui`): the pages, and the same report as JSON at `/status`,
// on a loopback address only. It answers only requests addressed to that address by name (the Host header), so
// that no other site a browser visits can reach it through a DNS name of its own pointing at the loopback.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectStatus } from '../../core/operate/status.ts';
import { servePage } from './pages.ts';
import type { StatusPageSource } from './view.ts';

export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether the request names this server's loopback address (or `localhost`) and port. */
function addressedHere(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host ?? '';
  const separator = host.lastIndexOf(':');
  return (
    separator > 0 &&
    host.slice(separator + 1) === String(port) &&
    LOOPBACK_NAMES.has(host.slice(0, separator))
  );
}

function text(status: number, body: string) {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/** Serves the status page of `source` on 127.0.0.1 (`port` 0 picks a free one) until closed. */
export async function startPageServer(options: {
  readonly source: StatusPageSource;
  readonly port: number;
  readonly onError: (error: unknown) => void;
}): Promise<PageServer> {
  const { source } = options;
  let port = options.port;
  const server = createServer((request, response) => {
    const answer = async () => {
      if (!addressedHere(request, port))
        return text(421, 'this server answers only on its loopback address\n');
      if (await servePage(request, response, source)) return undefined;
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path !== '/status') return text(404, 'not found: the status page is at /\n');
      const report = await collectStatus(source.reader, source.config);
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) };
    };
    answer().then(
      (plain) => {
        if (plain !== undefined) {
          response.writeHead(plain.status, { ...plain.headers, 'cache-control': 'no-store' });
          response.end(plain.body);
        }
      },
      (error: unknown) => {
        options.onError(error);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(
          `the status could not be read: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      },
    );
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
