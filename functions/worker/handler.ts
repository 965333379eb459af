// The worker Lambda: SQS FIFO batches of deploy jobs in, one recorded deployment per job out.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoDbEnvironmentStore } from '../adapters/aws/dynamodb-environment-store.ts';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source.ts';
import { IsomorphicGitSource } from '../adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../adapters/kubernetes/cluster-connector.ts';
import { renderTools } from '../adapters/local/layer-tools.ts';
import { loadConfigFromEnvironment } from '../core/config.ts';
import { type DeployDependencies, deploy, EnvironmentBusy } from '../core/deploy/deploy.ts';
import { parseDeployJob, supersededInBatch } from '../core/jobs.ts';

const logger = new Logger({ serviceName: 'ferry-worker' });
const metrics = new Metrics({ namespace: 'Ferry', serviceName: 'worker' });

let dependencies: Promise<DeployDependencies> | undefined;

async function wire(): Promise<DeployDependencies> {
  const table = process.env.FERRY_TABLE_NAME;
  if (table === undefined) throw new Error('FERRY_TABLE_NAME is not set');
  return {
    config: await loadConfigFromEnvironment(),
    store: new DynamoDbEnvironmentStore(table),
    git: new IsomorphicGitSource(),
    secrets: new SecretsManagerSecretSource(),
    clusters: new KubernetesClusterConnector(),
    tools: await renderTools(),
  };
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  dependencies ??= wire().catch((error: unknown) => {
    dependencies = undefined;
    throw error;
  });
  const deps = await dependencies;
  const jobs = new Map(event.Records.map((record) => [record.messageId, parseDeployJob(record.body)]));
  const superseded = supersededInBatch([...jobs.values()]);
  const supersededIds = new Set([...jobs.keys()].filter((_, i) => superseded[i]));
  try {
    return await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const job = jobs.get(record.messageId);
        if (job === undefined) throw new Error(`message ${record.messageId} is not a deploy job`);
        const started = Date.now();
        try {
          const result = await deploy(job, deps, { supersededInQueue: supersededIds.has(record.messageId) });
          logger.info('deployment finished', {
            job,
            result: result.result,
            message: result.message,
            id: result.id,
          });
          metrics.addDimensions({ result: result.result });
          metrics.addMetric('Deployments', MetricUnit.Count, 1);
          metrics.addMetric('DeployDuration', MetricUnit.Milliseconds, Date.now() - started);
          metrics.publishStoredMetrics();
        } catch (error) {
          const attempt = record.attributes.ApproximateReceiveCount;
          if (error instanceof EnvironmentBusy) logger.warn(error.message, { job, attempt });
          else
            logger.error('deploy job failed; SQS retries it, then moves it to the dead-letter queue', {
              job,
              attempt,
              error,
            });
          throw error;
        }
      },
      new SqsFifoPartialProcessorAsync(),
      { context, skipGroupOnError: true },
    );
  } finally {
    metrics.publishStoredMetrics();
  }
};
