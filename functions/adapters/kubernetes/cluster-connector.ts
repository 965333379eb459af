import { existsSync } from 'node:fs';
import type { ClusterConfig } from '../../core/config.ts';
import { errorMessage, Failure } from '../../core/errors.ts';
import type { Cluster, ClusterConnector } from '../../core/ports.ts';
import { type ClusterAccess, KubernetesApi, kubeConfigAccess } from './api-client.ts';
import { kubeconfigPath, staticKubeconfigAccess } from './kubeconfig.ts';
import { KubernetesCluster } from './kubernetes-cluster.ts';
import { DEFAULT_RATE_LIMIT, RequestThrottle } from './rate-limit.ts';

type KubeconfigCluster = Extract<ClusterConfig, { type: 'kubeconfig' }>;

/** How to reach one kind of cluster: its API server, its credentials and until when they hold. */
export type ClusterAccessSource<C extends ClusterConfig = ClusterConfig> = (
  config: C,
) => Promise<{ readonly access: ClusterAccess; readonly expiresAt: number }>;

/**
 * Named by a constant so that bundlers leave the import as it is: the functions' bundles never carry
 * `@kubernetes/client-node` (with undici, a third of a bundle), as a function reaches EKS clusters only (the
 * stack refuses kubeconfig ones); a bundle run beside `node_modules` (the benchmarks) still loads it.
 */
const CLIENT_NODE = '@kubernetes/client-node';

/** A kubeconfig file's cluster (local mode): the file named, else `KUBECONFIG` or `~/.kube/config`. */
export const kubeconfigFile: ClusterAccessSource<KubeconfigCluster> = async (config) => {
  try {
    const file = kubeconfigPath(config.kubeconfig);
    const found = file !== undefined && existsSync(file);
    // A file named by the configuration must be there; without one, client-node looks further (in-cluster).
    if (config.kubeconfig !== undefined && !found)
      throw new Error(`kubeconfig ${config.kubeconfig} does not exist`);
    const plain = found ? await staticKubeconfigAccess(file, config.name, config.context) : undefined;
    return { access: plain ?? (await clientNodeAccess(config)), expiresAt: Number.POSITIVE_INFINITY };
  } catch (error) {
    throw new Failure('configuration', `cluster ${config.name}: ${errorMessage(error)}`);
  }
};

/** The kubeconfig as client-node reads it: exec plugins, auth providers and in-cluster configuration too. */
async function clientNodeAccess(config: KubeconfigCluster): Promise<ClusterAccess> {
  const { KubeConfig } = (await import(CLIENT_NODE)) as typeof import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(config.kubeconfig);
  if (config.context !== undefined) kubeConfig.setCurrentContext(config.context);
  return kubeConfigAccess(kubeConfig, config.name);
}

interface Connection {
  readonly cluster: Cluster;
  readonly api: KubernetesApi;
  readonly expiresAt: number;
}

export interface ConnectorOptions {
  /** How EKS clusters are reached (an AWS adapter); without it they are refused. */
  readonly eks?: ClusterAccessSource<Extract<ClusterConfig, { type: 'eks' }>>;
  /** Bound on every API request (default 30 s). */
  readonly requestTimeoutMs?: number;
}

/**
 * Connections to the configured clusters, kept across invocations of a warm function and renewed before their
 * credentials expire. Each cluster's requests share one rate limit for the life of the process, renewals
 * included.
 */
export class KubernetesClusterConnector implements ClusterConnector {
  readonly #connections = new Map<string, Promise<Connection>>();
  readonly #throttles = new Map<string, RequestThrottle>();
  readonly #options: ConnectorOptions;

  constructor(options: ConnectorOptions = {}) {
    this.#options = options;
  }

  async connect(config: ClusterConfig): Promise<Cluster> {
    const cached = await this.#connections.get(config.name)?.catch(() => undefined);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.cluster;
    cached?.api.close();
    const connection = this.#open(config);
    this.#connections.set(config.name, connection);
    connection.catch(() => this.#connections.delete(config.name));
    return (await connection).cluster;
  }

  async #open(config: ClusterConfig): Promise<Connection> {
    const { eks, requestTimeoutMs } = this.#options;
    if (config.type === 'eks' && eks === undefined)
      throw new Failure(
        'configuration',
        `cluster ${config.name} is an EKS cluster, which this runtime cannot reach`,
      );
    const { access, expiresAt } =
      config.type === 'eks' && eks !== undefined
        ? await eks(config)
        : await kubeconfigFile(config as KubeconfigCluster);
    let throttle = this.#throttles.get(config.name);
    if (throttle === undefined) {
      throttle = new RequestThrottle(DEFAULT_RATE_LIMIT);
      this.#throttles.set(config.name, throttle);
    }
    const api = new KubernetesApi(access, {
      throttle,
      ...(requestTimeoutMs === undefined ? {} : { timeoutMs: requestTimeoutMs }),
    });
    return { api, cluster: new KubernetesCluster(api), expiresAt };
  }

  close(): void {
    for (const connection of this.#connections.values())
      connection.then(
        (c) => c.api.close(),
        () => undefined,
      );
    this.#connections.clear();
  }
}
