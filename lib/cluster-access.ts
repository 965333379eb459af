// Cluster access: for every configured EKS cluster, an access entry for each role that applies or checks
// drift, with the access policy and namespace scope from the configuration.
import { Aws, CfnRule, Fn, Stack } from 'aws-cdk-lib';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EksClusterConfig } from './deployment-config.ts';
import { grantDescribeClusters } from './permissions.ts';

export interface ClusterPrincipal {
  /** Names the access entries' construct ids, e.g. `Worker`. */
  readonly id: string;
  readonly role: IRole;
}

export interface ClusterAccessProps {
  readonly clusters: readonly EksClusterConfig[];
  /**
   * The roles that talk to the clusters. A server-side dry-run needs the same permissions as the apply it
   * previews, so the reconciler gets exactly what the worker gets.
   */
  readonly principals: readonly ClusterPrincipal[];
}

export class ClusterAccess extends Construct {
  readonly accessEntries: CfnAccessEntry[] = [];

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);

    for (const principal of props.principals) {
      grantDescribeClusters(principal.role, stack, props.clusters);
    }

    for (const cluster of props.clusters) {
      // Named by the cluster's unique name, not its position: reordering the configuration must not replace
      // an access entry (the new one would clash with the old one for the same principal and cluster).
      const clusterScope = new Construct(this, cluster.name);
      const accessScope =
        cluster.namespaces === undefined || cluster.namespaces.length === 0
          ? { type: 'cluster' }
          : { type: 'namespace', namespaces: cluster.namespaces };
      for (const principal of props.principals) {
        this.accessEntries.push(
          new CfnAccessEntry(clusterScope, principal.id, {
            clusterName: cluster.clusterName,
            principalArn: principal.role.roleArn,
            type: 'STANDARD',
            accessPolicies: [
              {
                policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/${cluster.accessPolicy}`,
                accessScope,
              },
            ],
          }),
        );
      }
      if (cluster.region !== undefined) {
        // AWS::EKS::AccessEntry acts in the stack's region only. Refuse a cluster elsewhere before anything is
        // created, rather than fail on an access entry for a cluster that the region does not have.
        new CfnRule(clusterScope, 'SameRegion', {
          assertions: [
            {
              assert: Fn.conditionEquals(cluster.region, Aws.REGION),
              assertDescription:
                `Cluster "${cluster.name}" (${cluster.clusterName}) is in ${cluster.region}: deploy Ferry's ` +
                'stack to that region, because EKS access entries are created in the stack region.',
            },
          ],
        });
      }
    }
  }
}
