// One run of a deploy job: its id, its record and the state change it leaves.
import { randomBytes } from 'node:crypto';
import type { FailureClass } from '../errors.ts';
import type { ObjectResult } from '../model/inventory.ts';
import type { DeployJob } from '../model/job.ts';
import { keyOf } from '../model/part.ts';
import type { DeploymentRecord, DeploymentResult, Pin, SyncState, SyncStatus } from '../model/records.ts';
import { describeRef } from '../objects.ts';
import type { Target } from '../source/tracked-ref.ts';

export class DeploymentRun {
  readonly id = `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
  readonly startedAt = new Date().toISOString();
  readonly job: DeployJob;
  /** What the run deploys, once decided. */
  target: Target | undefined;
  /** The part's sync status before the run, to tell a change of state. */
  previousSync: SyncStatus | undefined;
  /** The pin this run sets or releases (a manual job), recorded whatever the outcome. */
  pinChange: { readonly pin?: Pin | null } = {};

  constructor(job: DeployJob) {
    this.job = job;
  }

  /** The deployment record of this run. */
  record(
    result: DeploymentResult,
    message: string,
    results: readonly ObjectResult[] = [],
    failure?: FailureClass,
  ): DeploymentRecord {
    const { job, target } = this;
    const commit = target?.commit ?? job.commit;
    return {
      id: this.id,
      jobId: job.id,
      key: keyOf(job),
      commit,
      ref: target?.ref ?? job.ref,
      ...(commit === job.commit ? {} : { requestedCommit: job.commit }),
      trigger: job.trigger,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      result,
      ...(failure === undefined ? {} : { failure }),
      message,
      objects: results.map((r) => ({
        object: describeRef(r.ref),
        action: r.action,
        ...(r.message === undefined ? {} : { message: r.message }),
      })),
    };
  }
}

/** The sync status a deployment that applied or failed leaves the part in. */
export function syncOf(record: DeploymentRecord): SyncState {
  return {
    status: record.result === 'succeeded' ? 'Synced' : 'Failed',
    message: record.message,
    at: record.finishedAt,
    commit: record.commit,
    ...(record.failure === undefined ? {} : { failure: record.failure }),
  };
}

export function summarise(results: readonly ObjectResult[]): string {
  const counts = new Map<string, number>();
  for (const { action } of results) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts].map(([action, count]) => `${count} ${action}`).join(', ') || 'no objects';
}
