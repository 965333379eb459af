import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConfig } from '../../core/config.ts';
import type { Cluster, ClusterConnector } from '../../core/ports.ts';
import { EKS_TOKEN_LIFETIME_MS, eksToken } from '../aws/eks-token.ts';
import { KubernetesApi } from './api-client.ts';
import { KubernetesCluster } from './kubernetes-cluster.ts';

interface Connection {
  readonly cluster: Cluster;
  readonly api: KubernetesApi;
  readonly expiresAt: number;
}

/**
 * Connections to the configured clusters, kept across invocations of a warm function: EKS clusters through
 * DescribeCluster and a token renewed before it expires; kubeconfig clusters (local mode) through the file.
 */
export class KubernetesClusterConnector implements ClusterConnector {
  readonly #connections = new Map<string, Promise<Connection>>();

  async connect(config: ClusterConfig): Promise<Cluster> {
    const cached = await this.#connections.get(config.name)?.catch(() => undefined);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.cluster;
    cached?.api.close();
    const connection = open(config);
    this.#connections.set(config.name, connection);
    connection.catch(() => this.#connections.delete(config.name));
    return (await connection).cluster;
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

async function open(config: ClusterConfig): Promise<Connection> {
  const kubeConfig = new KubeConfig();
  let expiresAt = Number.POSITIVE_INFINITY;
  if (config.type === 'kubeconfig') {
    if (config.kubeconfig === undefined) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromFile(config.kubeconfig);
    if (config.context !== undefined) kubeConfig.setCurrentContext(config.context);
  } else {
    const eks = new EKSClient(config.region === undefined ? {} : { region: config.region });
    const region = config.region ?? (await eks.config.region());
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: config.clusterName }));
    if (cluster?.endpoint === undefined || cluster.certificateAuthority?.data === undefined) {
      throw new Error(`EKS cluster ${config.clusterName} has no endpoint yet (status ${cluster?.status})`);
    }
    expiresAt = Date.now() + EKS_TOKEN_LIFETIME_MS;
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: config.name,
          server: cluster.endpoint,
          caData: cluster.certificateAuthority.data,
          skipTLSVerify: false,
        },
      ],
      users: [{ name: 'ferry', token: await eksToken(config.clusterName, region) }],
      contexts: [{ name: config.name, cluster: config.name, user: 'ferry' }],
      currentContext: config.name,
    });
  }
  const api = new KubernetesApi(kubeConfig);
  return { api, cluster: new KubernetesCluster(api), expiresAt };
}
