// The reconciler Lambda: SQS batches of environment checks in; per check, new commits and drift compared,
// and a deploy or heal enqueued, or OutOfSync recorded.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type PublishedCheck, publishChecks } from '../adapters/aws/metrics.ts';
import { parseEnvironmentCheck } from '../core/model/check.ts';
import { checkEnvironment } from '../core/reconcile/check.ts';
import { RefsCache } from '../core/source/revision.ts';
import { METRICS } from '../names.ts';
import { clusterRuntime } from '../runtime/aws.ts';

const logger = new Logger({ serviceName: 'ferry-reconciler' });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: 'reconciler' });

/** How long the commit statuses still being posted (queued, OutOfSync) may hold the answer. */
const FEEDBACK_SETTLE_MS = 5_000;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const deps = await clusterRuntime({ log: logger, metrics });
  const refs = new RefsCache();
  const checked: PublishedCheck[] = [];
  try {
    return await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const check = parseEnvironmentCheck(record.body);
        if (check === undefined) throw new Error(`message ${record.messageId} is not an environment check`);
        const result = await checkEnvironment(check, deps, refs);
        logger.info('environment checked', {
          check,
          action: result.action,
          detail: result.message,
          drifted: result.drifted.length,
          ...(result.outOfSyncSince === undefined ? {} : { outOfSyncSince: result.outOfSyncSince }),
        });
        checked.push({ key: check, result });
      },
      new BatchProcessor(EventType.SQS),
      { context },
    );
  } finally {
    publishChecks(metrics, checked);
    await deps.feedback.settle(Math.min(FEEDBACK_SETTLE_MS, context.getRemainingTimeInMillis() / 2));
    metrics.publishStoredMetrics();
  }
};
