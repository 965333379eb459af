// The worker Lambda: SQS FIFO batches of deploy jobs in, one recorded deployment per job out. A transient
// failure makes the message visible again after a backoff; SQS dead-letters it after its receive limit.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { publishDeployment } from '../adapters/aws/metrics.ts';
import { pullRequestHosts } from '../adapters/comments/pull-requests.ts';
import { layerManifestTools, UNTRUSTED_RENDER } from '../adapters/tools/layer-tools.ts';
import { deploy, EnvironmentBusy } from '../core/deploy/deploy.ts';
import { LEASE_SECONDS } from '../core/deploy/lease.ts';
import { errorMessage } from '../core/errors.ts';
import { isPlanJob, jobGroup, type PlanJob, parseDeployJob, retryDelayMs } from '../core/model/job.ts';
import { planLogFields, runPlanJob } from '../core/plan/run.ts';
import { RefsCache } from '../core/source/revision.ts';
import { METRICS } from '../names.ts';
import { type ClusterRuntime, clusterRuntime } from '../runtime/aws.ts';

const logger = new Logger({ serviceName: 'ferry-worker' });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: 'worker' });

/** Time kept back from the function's timeout for recording and the batch response. */
const DEADLINE_MARGIN_MS = 30_000;

/**
 * How long the commit statuses still being posted may hold the answer: a post takes a second or two, retries
 * with backoff a few more; a host that does not answer by then is abandoned (the deployment is recorded).
 */
const FEEDBACK_SETTLE_MS = 10_000;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const runtime = await clusterRuntime({ log: logger, metrics });
  const refs = new RefsCache();
  const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
  try {
    return await processPartialResponse(
      event,
      (record: SQSRecord) => runJob(record, runtime, { refs, deadline }),
      new SqsFifoPartialProcessorAsync(),
      // A failed job is a batch item failure, not a function error: the alarm is on dead letters, after retries.
      { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
    );
  } finally {
    await runtime.feedback.settle(Math.min(FEEDBACK_SETTLE_MS, context.getRemainingTimeInMillis() / 2));
    metrics.publishStoredMetrics();
  }
};

async function runJob(
  record: SQSRecord,
  runtime: ClusterRuntime,
  options: { refs: RefsCache; deadline: number },
): Promise<void> {
  const job = parseDeployJob(record.body);
  if (job === undefined) throw new Error(`message ${record.messageId} is not a deploy job`);
  const started = Date.now();
  try {
    if (isPlanJob(job)) return await runPlan(job, runtime, options.refs);
    const result = await deploy(job, runtime, options);
    logger.info('deployment finished', {
      job,
      result: result.result,
      detail: result.message,
      id: result.id,
    });
    publishDeployment(metrics, result, Date.now() - started);
  } catch (error) {
    const attempt = Number(record.attributes.ApproximateReceiveCount);
    const busy = error instanceof EnvironmentBusy;
    const retryInSeconds = busy ? LEASE_SECONDS : retryDelayMs(attempt) / 1000;
    await runtime.queue
      .retryAfter(record.receiptHandle, retryInSeconds)
      .catch((visibilityError: unknown) =>
        logger.warn('the retry delay could not be set', { error: errorMessage(visibilityError) }),
      );
    const detail = { job, attempt, retryInSeconds, error: errorMessage(error) };
    const message = 'deploy job failed; SQS retries it, then moves it to the dead-letter queue';
    if (busy) logger.warn(message, detail);
    else logger.error(message, detail);
    throw error;
  }
}

/** The pull request API of each host, and the tools that render a pull request's head within its bounds. */
let planning:
  | Promise<{ hosts: ReturnType<typeof pullRequestHosts>; tools: ClusterRuntime['tools'] }>
  | undefined;

/** A plan job: the pull request's comment and the plan's status written, nothing applied. */
async function runPlan(job: PlanJob, runtime: ClusterRuntime, refs: RefsCache): Promise<void> {
  planning ??= layerManifestTools(UNTRUSTED_RENDER).then((tools) => ({ hosts: pullRequestHosts(), tools }));
  const ready = await planning.catch((error: unknown) => {
    planning = undefined;
    throw error;
  });
  const report = await runPlanJob(job, { ...runtime, ...ready }, { refs });
  logger.info('plan finished', { job: job.id, group: jobGroup(job), ...planLogFields(report) });
}
