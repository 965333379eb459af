// The metrics the worker and the reconciler publish for the dashboard and the alarms, in one place. Each call
// publishes at once, in Powertools' embedded metric format, so that records processed in parallel never mix
// their dimensions. Names and dimensions come from `METRICS`; the stack's alarms read the same names.
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { APPLIED_ACTIONS } from '../../core/model/inventory.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { CheckAction, CheckRecord, DeploymentRecord } from '../../core/model/records.ts';
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

/**
 * The checks that leave a part OutOfSync: a new commit or drift reported, a deploy or heal of it enqueued or
 * queued, or a deploy waiting for its dependencies. A pinned part is held there on purpose and counts as in
 * sync; a failed check says nothing either way.
 */
const OUT_OF_SYNC: ReadonlySet<CheckAction> = new Set(['out-of-sync', 'deploy', 'heal', 'queued', 'waiting']);

/**
 * One check: counted by action with the objects it found drifted; per part, whether it left the part OutOfSync
 * (the alarm's gauge, 1 or 0); and, when it failed, a failed check of the app environment.
 */
export function publishCheck(metrics: Metrics, key: PartKey, record: CheckRecord): void {
  publish(metrics, { [METRICS.actionDimension]: record.action }, [
    [METRICS.checks, MetricUnit.Count, 1],
    [METRICS.driftedObjects, MetricUnit.Count, record.drifted.length],
  ]);
  if (record.action === 'error') {
    publish(metrics, partDimensions(key), [[METRICS.checksFailed, MetricUnit.Count, 1]]);
    return;
  }
  publish(metrics, { ...partDimensions(key), [METRICS.partDimension]: key.part }, [
    [METRICS.outOfSync, MetricUnit.Count, OUT_OF_SYNC.has(record.action) ? 1 : 0],
  ]);
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
