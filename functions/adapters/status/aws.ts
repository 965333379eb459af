// The status reporters as the AWS functions wire them into the core's Feedback: statuses link to the worker's
// logs of the deployment, and each post that failed for good is logged and counted (`StatusPostsFailed`, or
// `NotificationsFailed` by notifier).
// Apart from the AWS runtime, so that the webhook function wires it without the worker's adapters.
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { FeedbackDependencies } from '../../core/feedback/feedback.ts';
import { ENV } from '../../names.ts';
import { publishFeedbackFailure } from '../aws/metrics.ts';
import { type FailureLog, onFeedbackFailure } from './failures.ts';
import { cloudWatchLogsLink } from './links.ts';
import { statusReporters } from './reporters.ts';

/** `log` and `metrics` are the handler's own: the count carries its service, as its other metrics do. */
export function awsStatusFeedback(
  log: FailureLog,
  metrics: Metrics,
): Pick<FeedbackDependencies, 'reporters' | 'targetUrl' | 'onFailure'> {
  const region = process.env.AWS_REGION;
  const logGroup = process.env[ENV.workerLogGroup];
  return {
    reporters: statusReporters(),
    ...(region === undefined || logGroup === undefined
      ? {}
      : { targetUrl: cloudWatchLogsLink(region, logGroup) }),
    onFailure: onFeedbackFailure(log, (what, detail) => publishFeedbackFailure(metrics, what, detail)),
  };
}
