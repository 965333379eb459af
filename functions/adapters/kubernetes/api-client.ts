import { Agent, type RequestOptions, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterApiError } from '../../core/ports.ts';

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
export class KubernetesApi {
  readonly #config: KubeConfig;
  readonly #agent: Agent;
  readonly #server: URL;

  constructor(config: KubeConfig, maxSockets = 16) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    this.#config = config;
    this.#server = new URL(cluster.server);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
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
    const { status, text } = await send(url, options, payload);
    const parsed: unknown = text === '' || !text.startsWith('{') ? undefined : JSON.parse(text);
    if (status >= 200 && status < 300) return parsed as T;
    const statusObject = (parsed ?? {}) as { reason?: string; message?: string };
    throw new ClusterApiError(
      status,
      statusObject.reason ?? 'Unknown',
      statusObject.message ?? `${method} ${path}: HTTP ${status}`,
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
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
