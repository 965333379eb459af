// IAM statements for resources that the stack does not own: the user's secrets and EKS clusters.
import { ArnFormat, Aws, type Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { EksClusterConfig } from './deployment-config.ts';

/**
 * ARN of a secret known by name. Secrets Manager appends a dash and six random characters to every secret's
 * ARN; `??????` matches exactly those six, so a secret `ferry/github` does not also grant `ferry/github-old`.
 */
export function secretArnFromName(stack: Stack, name: string): string {
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** secretsmanager:GetSecretValue on the named secrets, and nothing else (no DescribeSecret, no listing). */
export function grantSecretValues(grantee: IGrantable, stack: Stack, names: readonly string[]): void {
  if (names.length === 0) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: names.map((name) => secretArnFromName(stack, name)),
    }),
  );
}

/** The region of a cluster: its own, or the stack's. */
export function clusterRegion(cluster: EksClusterConfig): string {
  return cluster.region ?? Aws.REGION;
}

export function clusterArn(stack: Stack, cluster: EksClusterConfig): string {
  return stack.formatArn({
    service: 'eks',
    region: clusterRegion(cluster),
    resource: 'cluster',
    resourceName: cluster.clusterName,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** eks:DescribeCluster (endpoint and CA for the Kubernetes client) on the configured clusters. */
export function grantDescribeClusters(
  grantee: IGrantable,
  stack: Stack,
  clusters: readonly EksClusterConfig[],
): void {
  if (clusters.length === 0) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['eks:DescribeCluster'],
      resources: clusters.map((cluster) => clusterArn(stack, cluster)),
    }),
  );
}
