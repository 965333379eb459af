import { Agent, type RequestOptions, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterApiError, Failure, type StatusDetails } from '../../core/errors.ts';

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
}

/**
 * Raw JSON requests to the Kubernetes API, authenticated by a KubeConfig.
 *
 * Written by hand because `@kubernetes/client-node` serialises bodies through its generated models,
 * which silently drop fields they do not know (new API fields, CRD schema keys such as `default`):
 * objects from Git must reach the API server byte for byte as rendered.
 */
export interface ApiOptions {
  /** The configured cluster's name, for messages. */
  readonly name?: string;
  /** A request that has not finished after this long is abandoned as a transient failure (default 30 s). */
  readonly timeoutMs?: number;
  readonly maxSockets?: number;
}

export class KubernetesApi {
  readonly #config: KubeConfig;
  readonly #agent: Agent;
  readonly #server: URL;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(config: KubeConfig, options: ApiOptions = {}) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Failure('configuration', 'the kubeconfig has no current cluster');
    this.#config = config;
    this.#server = new URL(cluster.server);
    this.#name = options.name ?? cluster.name;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16 });
  }

  async request<T>({ method, path, query, body, contentType }: ApiRequest): Promise<T> {
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const options: RequestOptions = {
      method,
      agent: this.#agent,
      headers: {
        accept: 'application/json',
        ...(payload === undefined
          ? {}
          : { 'content-type': contentType ?? 'application/json', 'content-length': payload.length }),
      },
    };
    await this.#config.applyToHTTPSOptions(options);
    // client-node sets an agent of its own, without keep-alive: every request would pay a TLS handshake.
    options.agent = this.#agent;
    const { status, text } = await send(url, options, payload, this.#timeoutMs).catch((error: unknown) => {
      // The socket error names an address; say which cluster it is, keeping the code for classification.
      throw Object.assign(
        new Failure(
          'transient',
          `cluster ${this.#name} (${this.#server.host}): ${method} ${path}: ${String((error as Error).message)}`,
          { cause: error },
        ),
        { code: (error as NodeJS.ErrnoException).code },
      );
    });
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
    this.#agent.destroy();
  }
}

function send(
  url: URL,
  options: RequestOptions,
  payload: Buffer | undefined,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    // One bound for the whole exchange, answer included: a server that stops answering cannot hold a request.
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(payload);
  });
}
