// The AWS composition root: the core's use cases wired to the AWS adapters, for the Lambda handlers. Built on
// the first invocation and kept for the container's life (cached secrets, fetched commits, cluster
// connections); built again after a failure. Its twin for the local mode is `local.ts`.
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDbEnvironmentStore } from '../adapters/aws/dynamodb-environment-store.ts';
import { eksClusterAccess } from '../adapters/aws/eks-connection.ts';
import { requiredEnvironment } from '../adapters/aws/environment.ts';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source.ts';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.ts';
import { IsomorphicGitSource } from '../adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../adapters/kubernetes/cluster-connector.ts';
import { topicNotifiers } from '../adapters/notify/sns.ts';
import { webhookNotifiers } from '../adapters/notify/webhook.ts';
import { awsStatusFeedback } from '../adapters/status/aws.ts';
import type { FailureLog } from '../adapters/status/failures.ts';
import { layerManifestTools } from '../adapters/tools/layer-tools.ts';
import { readBuiltConfig } from '../core/built-config.ts';
import type { Config } from '../core/config.ts';
import { Feedback } from '../core/feedback/feedback.ts';
import type { ClusterConnector, GitSource, ManifestTools, SecretSource } from '../core/ports.ts';
import { ENV } from '../names.ts';

/** What the functions that reach Git and clusters (worker, reconciler) run on in AWS. */
export interface ClusterRuntime {
  readonly config: Config;
  readonly store: DynamoDbEnvironmentStore;
  readonly queue: SqsJobQueue;
  readonly git: GitSource;
  readonly secrets: SecretSource;
  readonly clusters: ClusterConnector;
  readonly tools: ManifestTools;
  /** Commit statuses and notifications: a handler settles them before it returns. */
  readonly feedback: Feedback;
}

/** The handler's logger and metrics, where the runtime reports what it does beside the handler's work. */
export interface HandlerTelemetry {
  readonly log: FailureLog;
  readonly metrics: Metrics;
}

async function build({ log, metrics }: HandlerTelemetry): Promise<ClusterRuntime> {
  // Written literally: the stack's bundler replaces `process.env.FERRY_CONFIG_JSON` with the configuration.
  const config = readBuiltConfig(process.env.FERRY_CONFIG_JSON);
  const secrets = new SecretsManagerSecretSource();
  return {
    config,
    store: new DynamoDbEnvironmentStore(requiredEnvironment(ENV.tableName)),
    queue: new SqsJobQueue(requiredEnvironment(ENV.deployQueueUrl)),
    git: new IsomorphicGitSource(),
    secrets,
    clusters: new KubernetesClusterConnector({ eks: eksClusterAccess }),
    tools: await layerManifestTools(),
    feedback: new Feedback({
      config,
      secrets,
      notifiers: [...topicNotifiers(), ...webhookNotifiers(config, secrets)],
      ...awsStatusFeedback(log, metrics),
    }),
  };
}

let runtime: Promise<ClusterRuntime> | undefined;

/** The runtime of this container; posts that failed for good are logged and counted with `telemetry`. */
export function clusterRuntime(telemetry: HandlerTelemetry): Promise<ClusterRuntime> {
  runtime ??= build(telemetry).catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}
