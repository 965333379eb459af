import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConfig } from '../../core/config.ts';
import { Failure } from '../../core/errors.ts';
import type { KubeConfigSource } from '../kubernetes/cluster-connector.ts';
import { EKS_TOKEN_LIFETIME_MS, eksToken } from './eks-token.ts';

type EksCluster = Extract<ClusterConfig, { type: 'eks' }>;

/**
 * An EKS cluster's endpoint and CA from DescribeCluster, and a token Ferry signs itself (no CLI), valid until
 * `expiresAt`.
 */
export const eksKubeConfig: KubeConfigSource<EksCluster> = async (config) => {
  const eks = new EKSClient(config.region === undefined ? {} : { region: config.region });
  const region = config.region ?? (await eks.config.region());
  const { cluster } = await eks
    .send(new DescribeClusterCommand({ name: config.clusterName }))
    .catch((error: unknown) => {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      throw new Failure(
        'configuration',
        `cluster ${config.name}: EKS cluster ${config.clusterName} not found in ${region}`,
      );
    });
  if (cluster?.endpoint === undefined || cluster.certificateAuthority?.data === undefined) {
    throw new Failure(
      'transient',
      `EKS cluster ${config.clusterName} has no endpoint yet (status ${cluster?.status})`,
    );
  }
  const expiresAt = Date.now() + EKS_TOKEN_LIFETIME_MS;
  const kubeConfig = new KubeConfig();
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
  return { kubeConfig, expiresAt };
};
