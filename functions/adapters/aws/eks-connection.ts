import type { ClusterConfig } from '../../core/config.ts';
import { Failure } from '../../core/errors.ts';
import type { ClusterAccessSource } from '../kubernetes/cluster-connector.ts';
import { EKS_TOKEN_LIFETIME_MS, eksToken } from './eks-token.ts';

type EksCluster = Extract<ClusterConfig, { type: 'eks' }>;

/**
 * An EKS cluster's endpoint and CA from DescribeCluster, and a token Ferry signs itself (no CLI), valid until
 * `expiresAt`.
 */
export const eksClusterAccess: ClusterAccessSource<EksCluster> = async (config) => {
  // Loaded on the first connection rather than with the function (about 20 ms of CPU off the worker's and the
  // reconciler's cold import, most of the EKS client's own): a container connects once per cluster, and an
  // invocation whose jobs reach no cluster never loads it.
  const { DescribeClusterCommand, EKSClient, ResourceNotFoundException } = await import(
    '@aws-sdk/client-eks'
  );
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
  const credentials = {
    headers: { authorization: `Bearer ${await eksToken(config.clusterName, region)}` },
    tls: { ca: Buffer.from(cluster.certificateAuthority.data, 'base64') },
  };
  const access = { name: config.name, server: cluster.endpoint, credentials: async () => credentials };
  return { access, expiresAt };
};
