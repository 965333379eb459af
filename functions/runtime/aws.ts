import type { Config } from '../../core/config.ts';
import { loadConfigFromEnvironment } from '../../core/config.ts';
import type { RenderTools } from '../../core/deploy/render.ts';
import type { ClusterConnector, GitSource, SecretSource } from '../../core/ports.ts';
import { IsomorphicGitSource } from '../git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../kubernetes/cluster-connector.ts';
import { renderTools } from '../local/layer-tools.ts';
import { DynamoDbEnvironmentStore } from './dynamodb-environment-store.ts';
import { requiredEnvironment } from './environment.ts';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source.ts';

/** What the functions that reach Git and clusters (worker, reconciler) run on in AWS. */
export interface ClusterRuntime {
  readonly config: Config;
  readonly store: DynamoDbEnvironmentStore;
  readonly git: GitSource;
  readonly secrets: SecretSource;
  readonly clusters: ClusterConnector;
  readonly tools: RenderTools;
}

async function build(): Promise<ClusterRuntime> {
  return {
    config: await loadConfigFromEnvironment(),
    store: new DynamoDbEnvironmentStore(requiredEnvironment('FERRY_TABLE_NAME')),
    git: new IsomorphicGitSource(),
    secrets: new SecretsManagerSecretSource(),
    clusters: new KubernetesClusterConnector(),
    tools: await renderTools(),
  };
}

let runtime: Promise<ClusterRuntime> | undefined;

/**
 * Built on the first invocation and kept for the container's life (cached secrets, fetched commits, cluster
 * connections); built again after a failure.
 */
export function clusterRuntime(): Promise<ClusterRuntime> {
  runtime ??= build().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}
