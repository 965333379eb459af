import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbEnvironmentStore } from '../../functions/adapters/aws/dynamodb-environment-store.ts';
import { SecretsManagerSecretSource } from '../../functions/adapters/aws/secrets-manager-secret-source.ts';
import { IsomorphicGitSource } from '../../functions/adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import { layerManifestTools } from '../../functions/adapters/tools/layer-tools.ts';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import type { DeployDependencies } from '../../functions/core/deploy/deploy.ts';
import { createJob, type DeployJob, type JobTrigger } from '../../functions/core/model/job.ts';
import { createStateTable } from './aws.ts';
import { GitWorkspace } from './git.ts';
import { testbed, uniqueName, writeTestbedKubeconfig } from './testbed.ts';

type EnvironmentInput = ConfigInput['apps'][number]['environments'][number];

/** An app of `repository` with one environment, `staging`, on the test bed's cluster (named `testbed`). */
export function stagingApp(options: {
  app: string;
  repository: string;
  namespace: string;
  path?: string;
  environment?: Partial<EnvironmentInput>;
}): ConfigInput['apps'][number] {
  return {
    name: options.app,
    repository: options.repository,
    path: options.path ?? 'deploy',
    environments: [
      {
        name: 'staging',
        cluster: 'testbed',
        namespace: options.namespace,
        trigger: { branches: ['main'] },
        healthTimeoutSeconds: 10,
        ...options.environment,
      },
    ],
  };
}

/** The Git token in moto's Secrets Manager, under a fresh name. */
export async function createTokenSecret(): Promise<string> {
  const name = uniqueName('ferry/git-token');
  await new SecretsManagerClient({}).send(
    new CreateSecretCommand({ Name: name, SecretString: testbed().gitToken }),
  );
  return name;
}

export interface DeployFixture {
  readonly app: string;
  readonly namespace: string;
  readonly workspace: GitWorkspace;
  readonly deps: DeployDependencies;
  readonly store: DynamoDbEnvironmentStore;
  /** The state table's name. */
  readonly table: string;
  /** A job for a commit of the workspace's main branch: a push unless another trigger is given. */
  job(commit: string, options?: { readonly trigger?: JobTrigger; readonly ref?: string }): DeployJob;
}

/**
 * One app with one environment `staging` in a fresh namespace, deployed from a fresh repository of the test
 * bed's Git server, with state in a fresh moto table: the worker's real adapters throughout.
 */
export async function deployFixture(
  environment: Partial<EnvironmentInput> = {},
  path = 'deploy',
): Promise<DeployFixture> {
  const app = uniqueName('app');
  const namespace = uniqueName('ns');
  const [workspace, table, kubeconfig, tokenSecret, tools] = await Promise.all([
    GitWorkspace.create(`tests/${app}`),
    createStateTable(),
    writeTestbedKubeconfig(),
    createTokenSecret(),
    layerManifestTools(),
  ]);
  const config = parseConfig({
    repositories: [
      { name: 'repo', url: workspace.url, provider: 'github', webhookSecret: 'unused', tokenSecret },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [stagingApp({ app, repository: 'repo', namespace, path, environment })],
  });
  const store = new DynamoDbEnvironmentStore(table);
  return {
    app,
    namespace,
    workspace,
    store,
    table,
    deps: {
      config,
      store,
      git: new IsomorphicGitSource(join(tmpdir(), uniqueName('ferry-git-cache'))),
      secrets: new SecretsManagerSecretSource(),
      clusters: new KubernetesClusterConnector(),
      tools,
    },
    job: (commit, options = {}) =>
      createJob(
        { app, environment: 'staging', part: 'app' },
        { ref: options.ref ?? 'refs/heads/main', commit },
        options.trigger ?? { kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' },
      ),
  };
}
