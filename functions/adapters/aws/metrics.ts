// The metrics the worker and the reconciler publish for the dashboard and the alarms, in one place. Each call
// publishes at once, in Powertools' embedded metric format, so that records processed in parallel never mix
// their dimensions. Names and dimensions come from `METRICS`; the stack's alarms read the same names.
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { APPLIED_ACTIONS } from '../../core/model/inventory.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { CheckAction, DeploymentRecord } from '../../core/model/records.ts';
import type { CheckResult } from '../../core/reconcile/check.ts';
import { METRICS } from '../../names.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Publishes values under one dimension set (beside Powertools' `service`). */
function publish(
  metrics: Metrics,
  dimensions: Record<string, string>,
  values: readonly (readonly [string, Unit, number])[],
): void {
  if (Object.keys(dimensions).length > 0) metrics.addDimensions(dimensions);
  for (const [name, unit, value] of values) metrics.addMetric(name, unit, value);
  metrics.publishStoredMetrics();
}

const partDimensions = (key: PartKey) => ({
  [METRICS.appDimension]: key.app,
  [METRICS.environmentDimension]: key.environment,
});

/**
 * A finished deployment, by app and environment: counted by result and, when it went to the cluster (succeeded
 * or failed), its duration and the objects it applied and pruned. A job found current or skipped took no time
 * worth averaging.
 */
export function publishDeployment(metrics: Metrics, record: DeploymentRecord, durationMs: number): void {
  const dimensions = partDimensions(record.key);
  publish(metrics, { ...dimensions, [METRICS.resultDimension]: record.result }, [
    [METRICS.deployments, MetricUnit.Count, 1],
  ]);
  if (record.result !== 'succeeded' && record.result !== 'failed') return;
  publish(metrics, dimensions, [
    [METRICS.deployDuration, MetricUnit.Milliseconds, durationMs],
    [
      METRICS.objectsApplied,
      MetricUnit.Count,
      record.objects.filter((o) => APPLIED_ACTIONS.has(o.action)).length,
    ],
    [METRICS.objectsPruned, MetricUnit.Count, record.objects.filter((o) => o.action === 'pruned').length],
  ]);
}

/** A reconciler's check, as it publishes it. */
export interface PublishedCheck {
  readonly key: PartKey;
  readonly result: CheckResult;
}

/**
 * One reconciler invocation's checks, published once for the batch, under dimensions that do not grow with the
 * parts (a series is billed by the month): checks by action, with the objects they found drifted; how many left
 * their part OutOfSync and the longest of those OutOfSync, in seconds since the part went so (the alarm's
 * gauge; the logs, `ferry status` and the status page name the part); and each failed check, by app
 * environment, which is published only when a check fails.
 */
export function publishChecks(metrics: Metrics, checks: readonly PublishedCheck[]): void {
  const byAction = new Map<CheckAction, { checks: number; drifted: number }>();
  for (const { result } of checks) {
    const counts = byAction.get(result.action) ?? { checks: 0, drifted: 0 };
    byAction.set(result.action, {
      checks: counts.checks + 1,
      drifted: counts.drifted + result.drifted.length,
    });
  }
  for (const [action, counts] of byAction) {
    publish(metrics, { [METRICS.actionDimension]: action }, [
      [METRICS.checks, MetricUnit.Count, counts.checks],
      [METRICS.driftedObjects, MetricUnit.Count, counts.drifted],
    ]);
  }
  const ages = checks.flatMap(({ result }) =>
    result.outOfSyncSince === undefined
      ? []
      : [(Date.parse(result.at) - Date.parse(result.outOfSyncSince)) / 1000],
  );
  publish(metrics, {}, [
    [METRICS.outOfSync, MetricUnit.Count, ages.length],
    [METRICS.longestOutOfSync, MetricUnit.Seconds, Math.max(0, ...ages)],
  ]);
  for (const { key, result } of checks) {
    if (result.action === 'error')
      publish(metrics, partDimensions(key), [[METRICS.checksFailed, MetricUnit.Count, 1]]);
  }
}

/** A commit status or a notification that failed for good (the `Feedback`'s `onFailure`). */
export function publishFeedbackFailure(
  metrics: Metrics,
  what: 'status' | 'notification',
  detail: Readonly<Record<string, unknown>>,
): void {
  if (what === 'status') {
    publish(metrics, {}, [[METRICS.statusPostsFailed, MetricUnit.Count, 1]]);
    return;
  }
  const notifier = typeof detail.notifier === 'string' ? detail.notifier : 'unknown';
  publish(metrics, { [METRICS.notifierDimension]: notifier }, [
    [METRICS.notificationsFailed, MetricUnit.Count, 1],
  ]);
}
