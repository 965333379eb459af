// What Ferry records of a part: its state (last applied commit, sync status, pin, inventory), its deployments
// and its checks.
import type { FailureClass } from '../errors.ts';
import type { KubeObject } from '../objects.ts';
import type { Action, InventoryEntry } from './inventory.ts';
import type { JobTrigger } from './job.ts';
import type { PartKey } from './part.ts';

export interface AppliedCommit {
  readonly commit: string;
  readonly ref: string;
  readonly deploymentId: string;
  readonly appliedAt: string;
}

export type SyncStatus = 'Synced' | 'OutOfSync' | 'Failed' | 'Unknown';

export interface SyncState {
  readonly status: SyncStatus;
  readonly message: string;
  readonly at: string;
  /** The commit the status speaks of: the one applied, attempted or found ahead. */
  readonly commit?: string;
  /** Why a Failed part failed: a rejected commit is not tried again until Git or a person says so. */
  readonly failure?: FailureClass;
}

/** A manual deploy of a given commit holds the part there: auto-sync pauses until `resume`. */
export interface Pin {
  readonly commit: string;
  readonly ref: string;
  readonly by: string;
  readonly at: string;
}

/** A deploy or heal a check enqueued; a later check within the grace period says "already queued". */
export interface QueuedDeploy {
  readonly commit: string;
  readonly reason: 'new-commit' | 'drift';
  readonly checkId: string;
  readonly at: string;
}

/** A part suspended by hand (`ferry suspend`): no push, check or reconcile deploys it until `ferry resume`. */
export interface Suspension {
  readonly by: string;
  readonly at: string;
  readonly reason?: string;
}

export interface EnvironmentState {
  readonly lastApplied?: AppliedCommit;
  readonly sync: SyncState;
  readonly inventory: readonly InventoryEntry[];
  readonly pin?: Pin;
  /** Set while the part is suspended: jobs other than manual ones are skipped, checks look at nothing. */
  readonly suspended?: Suspension;
  readonly queued?: QueuedDeploy;
  /** Ids of the jobs whose deployment was recorded last: a redelivered job is recognised and writes nothing. */
  readonly recentJobs: readonly string[];
}

export interface DeploymentObject {
  /** `Deployment shop/web`. */
  readonly object: string;
  readonly action: Action;
  readonly message?: string;
}

/**
 * - succeeded: the revision is applied and healthy.
 * - failed: see `failure` for its class; a transient failure is an attempt that the queue retries.
 * - current: the part already runs what the job would deploy; nothing changed.
 * - skipped: nothing to do by policy (the part is pinned, the ref is gone, the part is no longer configured).
 * - waiting: not yet: a dependency is not Synced at its latest revision, or the environment a follower follows
 *   has run nothing long enough; nothing changed, and the job ended.
 * - duplicate: the job was recorded before (a redelivered message); returned, never stored.
 */
export type DeploymentResult = 'succeeded' | 'failed' | 'current' | 'skipped' | 'waiting' | 'duplicate';

export interface DeploymentRecord {
  readonly id: string;
  readonly jobId: string;
  readonly key: PartKey;
  /** The commit deployed (or found current): the tracked ref's head when the worker took the job. */
  readonly commit: string;
  readonly ref: string;
  /** The commit the job named, when it differs from the one deployed. */
  readonly requestedCommit?: string;
  readonly trigger: JobTrigger;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: DeploymentResult;
  readonly failure?: FailureClass;
  readonly message: string;
  readonly objects: readonly DeploymentObject[];
}

/** What a deployment that applied a revision leaves for the next deployment and for drift checks. */
export interface AppliedRevisionState {
  readonly commit: AppliedCommit;
  readonly inventory: readonly InventoryEntry[];
  readonly desired: readonly KubeObject[];
}

/** What recording a deployment changes in the part's state besides its history. */
export interface StateChange {
  /** The new sync status; absent leaves it as it is. */
  readonly sync?: SyncState;
  /** Set when the deployment applied a revision. */
  readonly applied?: AppliedRevisionState;
  /** A new pin, or null to release it; absent leaves it as it is. */
  readonly pin?: Pin | null;
}

/** An object whose live state differs from the last applied revision. */
export interface DriftedObject {
  /** `Deployment shop/web`. */
  readonly object: string;
  readonly reason: 'missing' | 'modified';
  /** Changed fields (JSON pointers) with live and desired values; Secret values masked. */
  readonly changes?: readonly { readonly path: string; readonly live: unknown; readonly desired: unknown }[];
}

/**
 * What a check did: nothing; enqueued a deploy of a new commit, or a heal; found one already queued; reported
 * OutOfSync; found the part pinned; found it waiting (for a dependency, or for what it follows); found it
 * suspended (and looked at nothing); or failed.
 */
export type CheckAction =
  | 'none'
  | 'deploy'
  | 'heal'
  | 'queued'
  | 'out-of-sync'
  | 'pinned'
  | 'waiting'
  | 'suspended'
  | 'error';

/** One scheduled comparison of an environment part with Git and with its cluster. */
export interface CheckRecord {
  readonly id: string;
  readonly at: string;
  /** The commit the tracked ref points to now. */
  readonly headCommit?: string;
  readonly headRef?: string;
  readonly drifted: readonly DriftedObject[];
  readonly action: CheckAction;
  readonly message: string;
}

/** What recording a check changes in the part's state besides its latest check. */
export interface CheckChange {
  readonly sync?: SyncState;
  /** The deploy the check enqueued, or null once it is known not to be queued. */
  readonly queued?: QueuedDeploy | null;
}

/** How many recent job ids a part remembers: far more than can be redelivered while they matter. */
const RECENT_JOBS = 20;

/**
 * The recent job ids after recording `record`: a finished job is remembered, so that a redelivery of its message
 * writes nothing; a transient attempt is not, since the queue will deliver the same job again on purpose.
 */
export function recentJobsAfter(recent: readonly string[], record: DeploymentRecord): readonly string[] {
  if (record.failure === 'transient' || recent.includes(record.jobId)) return recent;
  return [record.jobId, ...recent].slice(0, RECENT_JOBS);
}

/** The state of a part nothing has been recorded for. */
export const UNKNOWN_SYNC: SyncState = { status: 'Unknown', message: '', at: '' };

/**
 * The most objects one part's revision may hold: what its recorded inventory is sized for (a DynamoDB item
 * holds about 10,000 compressed entries). A larger revision is refused before anything is applied: split it
 * into apps.
 */
export const MAX_REVISION_OBJECTS = 10_000;
