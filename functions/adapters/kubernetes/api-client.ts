import type { IncomingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterApiError, Failure, type StatusDetails } from '../../core/errors.ts';
import { DEFAULT_RATE_LIMIT, RequestThrottle } from './rate-limit.ts';
import { type Answer, type TlsSettings, Transport } from './transport.ts';

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
}

/** What authenticates a request: headers (a bearer token) and TLS settings (the CA, a client certificate). */
export interface Credentials {
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: TlsSettings;
}

/**
 * How to reach one cluster's API server, in the API client's own terms: the functions build it from
 * DescribeCluster and a signed token, without `@kubernetes/client-node` (with undici, a third of a bundle).
 */
export interface ClusterAccess {
  /** The configured cluster's name, for messages. */
  readonly name: string;
  readonly server: string;
  /** Asked before each request: a kubeconfig's exec plugin renews its token as it expires. */
  credentials(): Promise<Credentials>;
}

/**
 * A KubeConfig's current cluster as a `ClusterAccess` (named `name` in messages, else as in the kubeconfig),
 * through the KubeConfig's own methods, so without loading `@kubernetes/client-node` here: every request is
 * authenticated as the kubeconfig says, exec plugins included.
 */
export function kubeConfigAccess(config: KubeConfig, name?: string): ClusterAccess {
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new Failure('configuration', 'the kubeconfig has no current cluster');
  return {
    name: name ?? cluster.name,
    server: cluster.server,
    async credentials() {
      const options: RequestOptions = {};
      await config.applyToHTTPSOptions(options);
      const { ca, cert, key, rejectUnauthorized, servername, auth } = options;
      const headers = { ...(options.headers as Record<string, string> | undefined) };
      // A kubeconfig's username and password: basic authentication, which `auth` would have sent.
      if (auth != null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      const tls = Object.entries({ ca, cert, key, rejectUnauthorized, servername }).filter(
        ([, v]) => v != null,
      );
      return { headers, tls: Object.fromEntries(tls) };
    },
  };
}

export interface ApiOptions {
  /** A request that has not finished after this long is abandoned as a transient failure (default 30 s). */
  readonly timeoutMs?: number;
  /** Requests in flight at once (default 16), on the one HTTP/2 connection or on as many HTTP/1.1 sockets. */
  readonly maxInFlight?: number;
  /** The bound on this client's request rate, which clients of one cluster may share (default: its own). */
  readonly throttle?: RequestThrottle;
  /** How often a request the API server turns away (429) is sent again after its Retry-After (default 10). */
  readonly throttledRetries?: number;
}

/** Retry-After's seconds as the API server's priority and fairness sends them (1 s), bounded to 10 s. */
function retryAfterMs(headers: IncomingHttpHeaders): number {
  const seconds = Number(headers['retry-after']);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

/**
 * Raw JSON requests to the Kubernetes API.
 *
 * Written by hand because `@kubernetes/client-node` serialises bodies through its generated models,
 * which silently drop fields they do not know (new API fields, CRD schema keys such as `default`):
 * objects from Git must reach the API server byte for byte as rendered.
 */
export class KubernetesApi {
  readonly #access: ClusterAccess;
  readonly #transport: Transport;
  readonly #server: URL;
  readonly #timeoutMs: number;
  readonly #throttle: RequestThrottle;
  readonly #throttledRetries: number;

  /** `cluster` may be a KubeConfig (its current cluster), as tools and tests that hold one have it. */
  constructor(cluster: ClusterAccess | KubeConfig, options: ApiOptions = {}) {
    this.#access = 'credentials' in cluster ? cluster : kubeConfigAccess(cluster);
    this.#server = new URL(this.#access.server);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#transport = new Transport(options.maxInFlight ?? 16);
    this.#throttle = options.throttle ?? new RequestThrottle(DEFAULT_RATE_LIMIT);
    this.#throttledRetries = options.throttledRetries ?? 10;
  }

  /**
   * Sends the request within this client's rate, and again after its Retry-After (with jitter, so that the
   * requests turned away together do not return together) while the API server answers 429 Too Many Requests,
   * as client-go does: an overloaded API server queues Ferry instead of failing its deployment.
   */
  async request<T>(req: ApiRequest): Promise<T> {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    for (let retries = this.#throttledRetries; ; retries--) {
      await this.#throttle.take();
      const answer = await this.#exchange(req, payload);
      if (answer.status !== 429 || retries === 0) return this.#read<T>(req, answer);
      const wait = retryAfterMs(answer.headers);
      await sleep(wait + Math.random() * wait);
    }
  }

  async #exchange(
    { method, path, query, contentType }: ApiRequest,
    payload: Buffer | undefined,
  ): Promise<Answer> {
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const { headers, tls } = await this.#access.credentials();
    // The TLS settings go with each request: the transport keeps a connection per set of them.
    const exchange = {
      method,
      url,
      tls: tls ?? {},
      payload,
      timeoutMs: this.#timeoutMs,
      headers: {
        // HTTP/2 takes header names in lower case only; a kubeconfig's may come capitalised.
        ...Object.fromEntries(
          Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
        ),
        accept: 'application/json',
        ...(payload === undefined
          ? {}
          : { 'content-type': contentType ?? 'application/json', 'content-length': payload.length }),
      },
    };
    return this.#transport.send(exchange).catch((error: unknown) => {
      // The socket error names an address; say which cluster it is, keeping the code for classification.
      throw Object.assign(
        new Failure(
          'transient',
          `cluster ${this.#access.name} (${this.#server.host}): ${method} ${path}: ${String((error as Error).message)}`,
          { cause: error },
        ),
        { code: (error as NodeJS.ErrnoException).code },
      );
    });
  }

  #read<T>({ method, path }: ApiRequest, { status, text }: Answer): T {
    const parsed: unknown = text === '' || !text.startsWith('{') ? undefined : JSON.parse(text);
    if (status >= 200 && status < 300) return parsed as T;
    const statusObject = (parsed ?? {}) as {
      kind?: string;
      reason?: string;
      message?: string;
      details?: StatusDetails;
    };
    throw new ClusterApiError(
      status,
      // A Status without a reason is the API server's own answer; a body that is no Status came from elsewhere.
      statusObject.reason ?? (statusObject.kind === 'Status' ? '' : 'Unknown'),
      statusObject.message ?? `${method} ${path}: HTTP ${status}`,
      statusObject.details ?? {},
    );
  }

  close(): void {
    this.#transport.close();
  }
}
