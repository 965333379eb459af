// The reconciler Lambda: SQS batches of environment checks in; per check, new commits and drift compared,
// and a deploy or heal enqueued, or OutOfSync recorded.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoDbEnvironmentStore } from '../adapters/aws/dynamodb-environment-store.ts';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source.ts';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.ts';
import { IsomorphicGitSource } from '../adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../adapters/kubernetes/cluster-connector.ts';
import { renderTools } from '../adapters/local/layer-tools.ts';
import { loadConfigFromEnvironment } from '../core/config.ts';
import { type CheckDependencies, checkEnvironment, type RefsCache } from '../core/reconcile/check.ts';
import { parseEnvironmentCheck } from '../core/reconcile/schedule.ts';

const logger = new Logger({ serviceName: 'ferry-reconciler' });
let dependencies: Promise<CheckDependencies> | undefined;

async function wire(): Promise<CheckDependencies> {
  const table = process.env.FERRY_TABLE_NAME;
  const queueUrl = process.env.FERRY_QUEUE_URL;
  if (table === undefined || queueUrl === undefined)
    throw new Error('FERRY_TABLE_NAME and FERRY_QUEUE_URL must be set');
  return {
    config: await loadConfigFromEnvironment(),
    store: new DynamoDbEnvironmentStore(table),
    git: new IsomorphicGitSource(),
    secrets: new SecretsManagerSecretSource(),
    clusters: new KubernetesClusterConnector(),
    queue: new SqsJobQueue(queueUrl),
    tools: await renderTools(),
  };
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  dependencies ??= wire().catch((error: unknown) => {
    dependencies = undefined;
    throw error;
  });
  const deps = await dependencies;
  const refs: RefsCache = new Map();
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const check = parseEnvironmentCheck(record.body);
      if (check === undefined) throw new Error(`message ${record.messageId} is not an environment check`);
      const result = await checkEnvironment(check, deps, refs);
      logger.info('environment checked', {
        check,
        action: result.action,
        message: result.message,
        drifted: result.drifted.length,
      });
    },
    new BatchProcessor(EventType.SQS),
    { context },
  );
};
