// The worker Lambda: SQS FIFO batches of deploy jobs in, one recorded deployment per job out.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { clusterRuntime } from '../adapters/aws/cluster-runtime.ts';
import { deploy, EnvironmentBusy } from '../core/deploy/deploy.ts';
import { parseDeployJob, supersededInBatch } from '../core/jobs.ts';

const logger = new Logger({ serviceName: 'ferry-worker' });
const metrics = new Metrics({ namespace: 'Ferry', serviceName: 'worker' });

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const deps = await clusterRuntime();
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
