// The small interfaces through which the core reaches the world. Adapters implement them: AWS ones for the
// Lambda functions, local ones for `npm start`.
import type { Action, InventoryEntry } from './apply/inventory.ts';
import type { ClusterConfig } from './config.ts';
import type { DeployJob, JobPart, JobTrigger } from './jobs.ts';
import type { KubeObject, ObjectRef } from './objects.ts';

export interface QueuedJob {
  readonly job: DeployJob;
  /** Equal ids within the queue's deduplication window are delivered once. */
  readonly deduplicationId: string;
}

/** The deploy queue: FIFO per environment (see `jobGroup`), deduplicated. */
export interface JobQueue {
  enqueue(jobs: readonly QueuedJob[]): Promise<void>;
}

/** Remembers webhook deliveries so that a redelivery, even hours later, is acknowledged and not enqueued twice. */
export interface DeliveryLog {
  /** Whether the delivery was recorded and its record has not expired yet. */
  seen(deliveryKey: string): Promise<boolean>;
  /** Records the delivery; resolves false when it was recorded before. */
  remember(deliveryKey: string, retainForSeconds: number): Promise<boolean>;
}

/** Secret values by name (Secrets Manager in AWS), cached by the adapter. */
export interface SecretSource {
  getSecret(name: string): Promise<string>;
}

/** Where a kind is served: its plural resource name and whether its objects live in namespaces. */
export interface ResourceType {
  readonly resource: string;
  readonly namespaced: boolean;
}

/** A refused Kubernetes API request: the HTTP status and the API's `Status` reason and message. */
export class ClusterApiError extends Error {
  override name = 'ClusterApiError';
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** One Kubernetes cluster, as the deploy engine and the drift check use it. Objects travel unchanged. */
export interface Cluster {
  /** Discovery: where a kind is served, or undefined when the cluster does not serve it (yet). */
  resourceType(apiVersion: string, kind: string): Promise<ResourceType | undefined>;
  /** Forgets discovery, e.g. after CRDs were established. */
  refreshResourceTypes(): void;
  /** Server-side apply under Ferry's field manager, forcing ownership of conflicting fields. */
  apply(object: KubeObject, options: { readonly dryRun: boolean }): Promise<KubeObject>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** The objects of a kind with the given labels, in one namespace or (undefined) all. */
  list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labels: Readonly<Record<string, string>>,
  ): Promise<KubeObject[]>;
  /** Deletes an object; resolves false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
}

/** A Git repository as Ferry reaches it. */
export interface GitRemote {
  readonly url: string;
  /** Token for HTTP basic authentication; none for a public repository. */
  readonly token?: string | undefined;
}

/** A commit checked out into a directory of its own. */
export interface Checkout {
  readonly dir: string;
  /** Committer time, seconds since the epoch. */
  readonly commitTime: number;
  dispose(): Promise<void>;
}

/** A commit could not be fetched: it does not exist, the token is refused, or the host failed. */
export class GitFetchError extends Error {
  override name = 'GitFetchError';
}

export interface GitSource {
  /** Fetches exactly one commit (shallow) and checks it out. */
  checkout(remote: GitRemote, commit: string): Promise<Checkout>;
  /** The remote's refs and the commits they point to (tags peeled), like `git ls-remote`. */
  listRefs(remote: GitRemote): Promise<Map<string, string>>;
}

/** One deployable part of an app environment: the app's objects or the environment's configuration. */
export interface EnvironmentKey {
  readonly app: string;
  readonly environment: string;
  readonly part: JobPart;
}

export interface AppliedCommit {
  readonly commit: string;
  readonly ref: string;
  /** Committer time, seconds since the epoch: orders commits when jobs arrive out of order. */
  readonly commitTime: number;
  readonly deploymentId: string;
  readonly appliedAt: string;
}

export type SyncStatus = 'Synced' | 'OutOfSync' | 'Failed' | 'Unknown';

export interface EnvironmentState {
  readonly lastApplied?: AppliedCommit;
  readonly sync: { readonly status: SyncStatus; readonly message: string; readonly at: string };
  readonly inventory: readonly InventoryEntry[];
}

export interface DeploymentObject {
  /** `Deployment shop/web`. */
  readonly object: string;
  readonly action: Action;
  readonly message?: string;
}

export interface DeploymentRecord {
  readonly id: string;
  readonly key: EnvironmentKey;
  readonly commit: string;
  readonly ref: string;
  readonly trigger: JobTrigger;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: 'succeeded' | 'failed' | 'superseded';
  readonly message: string;
  readonly objects: readonly DeploymentObject[];
}

/** A deployment that ran under the environment's lock: it applied a revision, or failed. */
export type FinishedDeployment = DeploymentRecord & { readonly result: 'succeeded' | 'failed' };

/** What a deployment that applied a revision leaves for the next deployment and for drift checks. */
export interface AppliedRevisionState {
  readonly commit: AppliedCommit;
  readonly inventory: readonly InventoryEntry[];
  readonly desired: readonly KubeObject[];
}

/** The sync status a finished deployment leaves the environment in. */
export function syncAfter(record: FinishedDeployment): EnvironmentState['sync'] {
  return {
    status: record.result === 'failed' ? 'Failed' : 'Synced',
    message: record.message,
    at: record.finishedAt,
  };
}

/** Environment state, deployment history and the lock that keeps one worker per environment. */
export interface EnvironmentStore {
  get(key: EnvironmentKey): Promise<EnvironmentState | undefined>;
  /** Takes the environment's lock for `owner`; resolves false while another owner holds it. */
  lock(key: EnvironmentKey, owner: string, ttlSeconds: number): Promise<boolean>;
  unlock(key: EnvironmentKey, owner: string): Promise<void>;
  /**
   * Records a finished deployment and, when it applied a revision, the new last applied commit and inventory,
   * in one transaction that holds only while `record.id` still owns the lock.
   */
  recordDeployment(record: FinishedDeployment, applied?: AppliedRevisionState): Promise<void>;
  /**
   * Records a deployment in the history only, leaving the environment's state alone: a superseded job, or one
   * for an environment no longer configured. Needs no lock.
   */
  appendHistory(record: DeploymentRecord): Promise<void>;
  /** Newest first. */
  listDeployments(key: EnvironmentKey, limit: number): Promise<DeploymentRecord[]>;
}

/** Connects to a configured cluster (EKS, or a kubeconfig in the local mode), caching credentials. */
export interface ClusterConnector {
  connect(cluster: ClusterConfig): Promise<Cluster>;
}

/** An object whose live state differs from the last applied revision. */
export interface DriftedObject {
  /** `Deployment shop/web`. */
  readonly object: string;
  readonly reason: 'missing' | 'modified';
  /** Changed fields (JSON pointers) with live and desired values; Secret values masked. */
  readonly changes?: readonly { readonly path: string; readonly live: unknown; readonly desired: unknown }[];
}

/** One scheduled comparison of an environment part with Git and with its cluster. */
export interface CheckRecord {
  readonly id: string;
  readonly at: string;
  /** The commit the tracked ref points to now. */
  readonly headCommit?: string;
  readonly headRef?: string;
  readonly drifted: readonly DriftedObject[];
  /** What the check did: nothing, enqueued a deploy of a new commit, enqueued a heal, or reported OutOfSync. */
  readonly action: 'none' | 'deploy' | 'heal' | 'out-of-sync' | 'error';
  readonly message: string;
}

/** The drift and new-commit checks' view of the environment store. */
export interface CheckStore {
  get(key: EnvironmentKey): Promise<EnvironmentState | undefined>;
  /** The desired objects of the last applied revision, when the deployment could keep them. */
  getDesired(key: EnvironmentKey): Promise<KubeObject[] | undefined>;
  /**
   * Records the check as the environment's latest (and in a short history); sets the sync status when given.
   */
  recordCheck(key: EnvironmentKey, check: CheckRecord, sync?: EnvironmentState['sync']): Promise<void>;
  /** Stores settled resourceVersions, unless a deployment other than `deploymentId` has replaced the inventory. */
  refreshInventory(
    key: EnvironmentKey,
    deploymentId: string,
    inventory: readonly InventoryEntry[],
  ): Promise<void>;
}

/** The reconciler's queue of scheduled checks, each delivered after a delay (jitter). */
export interface CheckQueue {
  enqueueChecks(
    checks: readonly { readonly check: EnvironmentCheck; readonly delaySeconds: number }[],
  ): Promise<void>;
}

/** A request to check one environment part: the message on the check queue. */
export interface EnvironmentCheck {
  readonly app: string;
  readonly environment: string;
  readonly part: JobPart;
  readonly tickId: string;
  readonly scheduledAt: string;
}
