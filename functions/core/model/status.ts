// The operations read model: what an operator sees of an install, the local mode's state directory or an AWS
// stack alike. Every part with its sync status, applied and head commits, pin, suspension, latest check, lock
// and last deployments (each message whole), and the deploy queue with its dead letters. `ferry status`, the
// local mode's `GET /status` and the status page show this, and nothing else.
import type { JobTrigger } from './job.ts';
import { type PartKey, type PartName, partId } from './part.ts';
import type {
  AppliedCommit,
  CheckRecord,
  DeploymentRecord,
  EnvironmentState,
  Pin,
  Suspension,
  SyncState,
} from './records.ts';

/** A deployment of the history: its objects counted by action rather than listed. */
export type DeploymentSummary = Omit<DeploymentRecord, 'key' | 'objects'> & {
  /** How people refer to it: see `shortDeploymentId`. */
  readonly shortId: string;
  readonly durationMs: number;
  readonly objects: number;
  /** Objects by what the deployment did to them, e.g. `{created: 2, unchanged: 10}`. */
  readonly actions: Readonly<Record<string, number>>;
};

/** What the store holds of one part: its state, latest check and the lock while a deployment holds it. */
export interface PartSnapshot {
  readonly state: EnvironmentState | undefined;
  readonly lastCheck: CheckRecord | undefined;
  readonly lock: { readonly owner: string; readonly expiresAt: string } | undefined;
}

export interface PartStatus {
  readonly app: string;
  readonly environment: string;
  readonly part: PartName;
  /** `app/environment/part`. */
  readonly id: string;
  /** False for a part the store knows but the configuration no longer has; undefined without a configuration. */
  readonly configured: boolean | undefined;
  readonly lastApplied: AppliedCommit | null;
  readonly sync: SyncState;
  /** Set while a manual deploy holds the part at a commit; `head` says where its ref is. */
  readonly pin: Pin | null;
  /** Set while the part takes no pushes or checks: by `ferry suspend`, or `suspend: true` in the configuration. */
  readonly suspended: Suspension | null;
  /** The tracked ref's head as the latest check found it. */
  readonly head: { readonly commit: string; readonly ref: string | undefined; readonly at: string } | null;
  readonly lastCheck: CheckRecord | null;
  readonly lock: { readonly owner: string; readonly expiresAt: string } | null;
  readonly objects: number;
  /** Newest first. */
  readonly deployments: readonly DeploymentSummary[];
}

/** A job on the deploy queue. */
export interface PendingJobStatus {
  readonly id: string;
  readonly group: string;
  readonly commit: string;
  readonly ref: string;
  readonly trigger: JobTrigger['kind'];
  readonly running: boolean;
  readonly attempts: number;
  readonly availableAt: string;
  readonly lastError?: string;
}

/** A job that failed every attempt, kept aside until it is redriven. */
export interface DeadLetterStatus {
  /** The local queue's job number, or the SQS message id. */
  readonly id: string;
  readonly group: string;
  readonly commit: string | undefined;
  readonly ref: string | undefined;
  readonly trigger: JobTrigger['kind'] | undefined;
  readonly attempts: number;
  /** The last attempt's failure, when it is known (recorded with the job's last transient attempt). */
  readonly lastError: string | undefined;
  readonly failedAt: string | undefined;
}

/** What the deploy queue can tell: its counts, and its jobs where they can be listed without taking them. */
export interface QueueSnapshot {
  readonly queued: number;
  readonly running: number;
  /** False for an SQS queue: its messages cannot be read without taking them from the worker. */
  readonly listsJobs: boolean;
  readonly jobs: readonly PendingJobStatus[];
}

export interface QueueStatus extends QueueSnapshot {
  readonly deadLetters: readonly DeadLetterStatus[];
}

export interface StatusReport {
  readonly generatedAt: string;
  readonly environments: readonly PartStatus[];
  readonly queue: QueueStatus;
}

/**
 * A deployment's short id: the first 8 hex digits of its random part (a deployment id is its start time in base
 * 36, a dash, and 10 random hex digits), unique enough within a part's history to name one.
 */
export function shortDeploymentId(id: string): string {
  const random = id.slice(id.lastIndexOf('-') + 1);
  return random.slice(0, 8);
}

/** How long a deployment took. */
export const durationOf = (record: Pick<DeploymentRecord, 'startedAt' | 'finishedAt'>): number =>
  Math.max(0, Date.parse(record.finishedAt) - Date.parse(record.startedAt)) || 0;

export function summariseDeployment({ key: _key, objects, ...record }: DeploymentRecord): DeploymentSummary {
  const actions: Record<string, number> = {};
  for (const object of objects) actions[object.action] = (actions[object.action] ?? 0) + 1;
  return {
    ...record,
    shortId: shortDeploymentId(record.id),
    durationMs: durationOf(record),
    objects: objects.length,
    actions,
  };
}

/**
 * The order parts are shown in: by app, environment, then part. Names are DNS labels, whose code-unit order is
 * the alphabetical one; `localeCompare` would first load ICU's collator, 10 to 25 ms of `ferry status`.
 */
export function compareParts(a: PartKey, b: PartKey): number {
  return byName(a.app, b.app) || byName(a.environment, b.environment) || byName(a.part, b.part);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A part's status from what the store holds of it. */
export function partStatus(
  key: PartKey,
  snapshot: PartSnapshot,
  history: readonly DeploymentRecord[],
  configuration: { readonly configured: boolean | undefined; readonly suspended: boolean },
): PartStatus {
  const { state, lastCheck, lock } = snapshot;
  const suspended =
    state?.suspended ??
    (configuration.suspended ? { by: 'the configuration (suspend: true)', at: '' } : null);
  return {
    app: key.app,
    environment: key.environment,
    part: key.part,
    id: partId(key),
    configured: configuration.configured,
    lastApplied: state?.lastApplied ?? null,
    sync: state?.sync ?? { status: 'Unknown', message: 'never deployed', at: '' },
    pin: state?.pin ?? null,
    suspended,
    head:
      lastCheck?.headCommit === undefined
        ? null
        : { commit: lastCheck.headCommit, ref: lastCheck.headRef, at: lastCheck.at },
    lastCheck: lastCheck ?? null,
    lock: lock ?? null,
    objects: state?.inventory.length ?? 0,
    deployments: history.map(summariseDeployment),
  };
}
