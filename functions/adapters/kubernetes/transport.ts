// How the API client's requests reach an API server: as streams of one HTTP/2 connection where the server
// speaks it (chosen in the TLS handshake, as client-go does), else over kept-alive HTTP/1.1 sockets. One
// connection spares a process its handshakes (sixteen with HTTP/1.1's pool) and about half its CPU a request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectHttp2,
  constants,
} from 'node:http2';
import { Agent, type RequestOptions, request } from 'node:https';
import { isIP } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import pLimit, { type LimitFunction } from 'p-limit';

/** The TLS settings of a request: the CA, a client certificate, whether to verify, the name to verify. */
export type TlsSettings = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

export interface Exchange {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly tls: TlsSettings;
  readonly payload: Buffer | undefined;
  /** The bound on the exchange, answer included; and on the handshake of a connection it has to open first. */
  readonly timeoutMs: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** HTTP/2's default window (64 KiB a round trip) would slow a list page of megabytes across a network. */
const WINDOW_BYTES = 4 * 2 ** 20;

/** Where an HTTP/2 connection is not to be had, the server's answer to ALPN: HTTP/1.1 from then on. */
const HTTP1 = 'http/1.1';

/**
 * An HTTP/2 session and the streams it runs: an idle session does not hold the process open, a running stream
 * does.
 */
interface Session {
  readonly http2: ClientHttp2Session;
  streams: number;
  /** Takes it out of the connections requests are sent on (it may still finish the streams it runs). */
  readonly forget: () => void;
}

/** A connection for one origin and one set of TLS settings: an HTTP/2 session, or HTTP/1.1's pool. */
type Connection = Session | typeof HTTP1;

export class Transport {
  readonly #agent: Agent;
  readonly #inFlight: LimitFunction;
  readonly #connections = new Map<string, Promise<Connection>>();

  /** At most `maxInFlight` requests at once, over either protocol. */
  constructor(maxInFlight: number) {
    this.#agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
    this.#inFlight = pLimit(maxInFlight);
  }

  send(exchange: Exchange): Promise<Answer> {
    const key = `${exchange.url.origin}|${tlsKey(exchange.tls)}`;
    return this.#inFlight(async () => {
      for (let again = false; ; again = true) {
        const connection = await this.#connection(key, exchange);
        if (connection === HTTP1) return sendHttp1(exchange, this.#agent);
        try {
          return await sendHttp2(connection, exchange);
        } catch (error) {
          // A stream the server never began (refused, or sent after its GOAWAY) goes again, on a new connection.
          if (!(error instanceof NotProcessed) || again) throw error;
          connection.forget();
          connection.http2.close();
        }
      }
    });
  }

  close(): void {
    this.#agent.destroy();
    for (const connection of this.#connections.values())
      connection.then(
        (c) => c !== HTTP1 && c.http2.destroy(),
        () => undefined,
      );
    this.#connections.clear();
  }

  #connection(key: string, { url, tls, timeoutMs }: Exchange): Promise<Connection> {
    let connection = this.#connections.get(key);
    if (connection === undefined) {
      const opening = open(url, tls, timeoutMs, () => this.#forget(key, opening));
      opening.catch(() => this.#forget(key, opening));
      this.#connections.set(key, opening);
      connection = opening;
    }
    return connection;
  }

  #forget(key: string, connection: Promise<Connection>): void {
    if (this.#connections.get(key) === connection) this.#connections.delete(key);
  }
}

function tlsKey({ ca, cert, key, rejectUnauthorized, servername }: TlsSettings): string {
  const text = (value: unknown) => (value == null ? '' : String(value));
  return [ca, cert, key, rejectUnauthorized, servername].map(text).join('|');
}

/**
 * Opens a TLS connection offering HTTP/2 and HTTP/1.1; an HTTP/2 session over it where the server chose HTTP/2.
 * `forget` is called once the session may take no more streams (GOAWAY, an error, closed).
 */
async function open(url: URL, tls: TlsSettings, timeoutMs: number, forget: () => void): Promise<Connection> {
  const socket = await handshake(url, tls, timeoutMs);
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy();
    return HTTP1;
  }
  const http2 = connectHttp2(url.origin, {
    createConnection: () => socket,
    settings: { initialWindowSize: WINDOW_BYTES },
  });
  http2.setLocalWindowSize(WINDOW_BYTES);
  for (const event of ['goaway', 'close', 'error'] as const) http2.on(event, forget);
  http2.unref();
  return { http2, streams: 0, forget };
}

/** A TLS connection, or a timeout: a server that accepts connections but does not answer cannot hold one. */
function handshake(url: URL, tls: TlsSettings, timeoutMs: number): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connectTls({
      ...tls,
      host,
      port: Number(url.port || 443),
      servername: tls.servername ?? (isIP(host) === 0 ? host : undefined),
      ALPNProtocols: ['h2', HTTP1],
    });
    const timer = setTimeout(() => socket.destroy(timedOut(timeoutMs)), timeoutMs);
    const failed = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', failed);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      resolve(socket);
    });
  });
}

const timedOut = (timeoutMs: number) =>
  Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' });

/** A request the server did not begin to process: safe to send again, a create included. */
class NotProcessed extends Error {}

const NOT_PROCESSED = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION']);

/** How long a session that let a request time out has to answer a ping before it is given up. */
const PING_TIMEOUT_MS = 5_000;

function sendHttp2(session: Session, exchange: Exchange): Promise<Answer> {
  const { method, url, headers, payload, timeoutMs } = exchange;
  const { http2 } = session;
  return new Promise((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      // A DELETE carries its options as a body: Node would end a GET's, HEAD's or DELETE's stream at once.
      stream = http2.request(
        { ...headers, ':method': method, ':path': url.pathname + url.search },
        { endStream: payload === undefined },
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      reject(NOT_PROCESSED.has(code) ? new NotProcessed(code, { cause: error }) : error);
      return;
    }
    if (session.streams++ === 0) http2.ref();
    const timer = setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      reject(timedOut(timeoutMs));
      giveUpUnlessAlive(http2);
    }, timeoutMs);
    stream.on('close', () => {
      clearTimeout(timer);
      if (--session.streams === 0 && !http2.destroyed) http2.unref();
    });
    collect(stream, resolve, reject);
    stream.end(payload);
  });
}

/** The stream's answer, or its error: a stream the server refused before answering is `NotProcessed`. */
function collect(
  stream: ClientHttp2Stream,
  resolve: (answer: Answer) => void,
  reject: (error: unknown) => void,
): void {
  let status = 0;
  let headers: IncomingHttpHeaders = {};
  const chunks: Buffer[] = [];
  stream.on('response', (received) => {
    status = Number(received[':status'] ?? 0);
    headers = received;
  });
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => resolve({ status, headers, text: Buffer.concat(chunks).toString('utf8') }));
  stream.on('error', (error) => {
    const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM && status === 0;
    reject(refused ? new NotProcessed('the API server refused the stream', { cause: error }) : error);
  });
}

/**
 * A request timed out: the connection may be dead without a word (a peer gone from the network), which only a
 * ping tells; a session that does not answer one in time is destroyed, so that the next request connects anew.
 */
function giveUpUnlessAlive(http2: ClientHttp2Session): void {
  if (http2.destroyed) return;
  const timer = setTimeout(() => http2.destroy(), PING_TIMEOUT_MS);
  timer.unref();
  const sent = http2.ping((error) => {
    clearTimeout(timer);
    if (error !== null) http2.destroy();
  });
  if (!sent) clearTimeout(timer);
}

function sendHttp1(exchange: Exchange, agent: Agent): Promise<Answer> {
  const { method, url, headers, tls, payload, timeoutMs } = exchange;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(timedOut(timeoutMs));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(payload);
  });
}
