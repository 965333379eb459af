// The reconciler Lambda: SQS batches of environment checks in; per check, new commits and drift compared,
// and a deploy or heal enqueued, or OutOfSync recorded.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { clusterRuntime } from '../adapters/aws/cluster-runtime.ts';
import { requiredEnvironment } from '../adapters/aws/environment.ts';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.ts';
import { type CheckDependencies, checkEnvironment, type RefsCache } from '../core/reconcile/check.ts';
import { parseEnvironmentCheck } from '../core/reconcile/schedule.ts';

const logger = new Logger({ serviceName: 'ferry-reconciler' });
let queue: SqsJobQueue | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  queue ??= new SqsJobQueue(requiredEnvironment('FERRY_QUEUE_URL'));
  const deps: CheckDependencies = { ...(await clusterRuntime()), queue };
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
