// The small interfaces through which the core reaches the world, and nothing else: adapters implement them (AWS
// ones for the Lambda functions, local ones for `npm start`); the domain they speak of is in `model/`.
import type { ClusterConfig, RepositoryConfig } from './config.ts';
import type { EnvironmentCheck } from './model/check.ts';
import type { CommitStatus, SyncChange } from './model/feedback.ts';
import type { InventoryEntry } from './model/inventory.ts';
import type { DeployJob } from './model/job.ts';
import type { PartKey } from './model/part.ts';
import type {
  CheckChange,
  CheckRecord,
  DeploymentRecord,
  EnvironmentState,
  StateChange,
  Suspension,
} from './model/records.ts';
import type { DeadLetterStatus, PartSnapshot, QueueSnapshot } from './model/status.ts';
import type { KubeObject, ObjectRef } from './objects.ts';

/** The deploy queue: FIFO per part (`partId`), deduplicated by job id. */
export interface JobQueue {
  enqueue(jobs: readonly DeployJob[]): Promise<void>;
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
  /**
   * The secret's value. Throws a `Failure`: configuration when the secret does not exist, transient when the
   * store cannot be reached.
   */
  getSecret(name: string): Promise<string>;
}

/** Where a kind is served: its plural resource name and whether its objects live in namespaces. */
export interface ResourceType {
  readonly resource: string;
  readonly namespaced: boolean;
}

/**
 * One Kubernetes cluster, as the deploy engine and the drift check use it. Objects travel unchanged. Every
 * request is bounded in time; a refused one throws a `ClusterApiError`.
 */
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

/** Connects to a configured cluster (EKS, or a kubeconfig in the local mode), caching credentials. */
export interface ClusterConnector {
  connect(cluster: ClusterConfig): Promise<Cluster>;
}

/** A Git repository as Ferry reaches it. */
export interface GitRemote {
  readonly url: string;
  /** Token for HTTP authentication; none for a public repository. */
  readonly token?: string | undefined;
  /**
   * How the host takes the token: basic authentication with this user name (`x-access-token` for GitHub,
   * GitLab and Gitea; `x-token-auth` for Bitbucket Cloud), or as a bearer token (Bitbucket Data Center).
   */
  readonly tokenAs?: { readonly basicUser: string } | 'bearer';
}

/** A commit checked out into a directory of its own. */
export interface Checkout {
  readonly dir: string;
  dispose(): Promise<void>;
}

/** Git over smart HTTP. Every operation is bounded in time; failures are `Failure`s with their class. */
export interface GitSource {
  /** Fetches exactly one commit (shallow) and checks it out. */
  checkout(remote: GitRemote, commit: string): Promise<Checkout>;
  /** The remote's refs and the commits they point to (tags peeled), like `git ls-remote`. */
  listRefs(remote: GitRemote): Promise<Map<string, string>>;
}

/** Runs Kustomize and Helm; an adapter finds their binaries. Output is the rendered YAML stream. */
export interface ManifestTools {
  kustomize(dir: string): Promise<string>;
  helmTemplate(request: {
    readonly releaseName: string;
    readonly chartDir: string;
    readonly namespace: string;
    readonly valuesFiles: readonly string[];
  }): Promise<string>;
}

/** Part state, deployment history and the lock that keeps one worker per part. */
export interface EnvironmentStore {
  get(key: PartKey): Promise<EnvironmentState | undefined>;
  /**
   * Takes the part's lock for `owner`, or renews it when `owner` holds it, for `ttlSeconds` (a lease that
   * expires when its holder stops renewing it); resolves false while another owner holds it.
   */
  lock(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Extends the lease of a lock `owner` still holds; resolves false, changing nothing, when it holds none (a
   * renewal that arrives after the release must not take the lock again).
   */
  renew(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean>;
  unlock(key: PartKey, owner: string): Promise<void>;
  /**
   * Records a deployment in the history and applies `change` to the part's state, in one transaction that holds
   * only while `record.id` owns the lock. It also clears the queued marker and, unless the record is a transient
   * attempt, remembers `record.jobId` among the recent jobs.
   */
  recordDeployment(record: DeploymentRecord, change: StateChange): Promise<void>;
  /** Records a deployment in the history only, without the lock: a job for a part no longer configured. */
  appendHistory(record: DeploymentRecord): Promise<void>;
  /** Newest first. */
  listDeployments(key: PartKey, limit: number): Promise<DeploymentRecord[]>;
}

/** The drift and new-commit checks' view of the environment store. */
export interface CheckStore {
  get(key: PartKey): Promise<EnvironmentState | undefined>;
  /** The desired objects of the last applied revision, when the deployment could keep them. */
  getDesired(key: PartKey): Promise<KubeObject[] | undefined>;
  /** Records the check as the part's latest (and in a short history) and applies `change`. */
  recordCheck(key: PartKey, check: CheckRecord, change: CheckChange): Promise<void>;
  /** Stores settled resourceVersions, unless a deployment other than `deploymentId` has replaced the inventory. */
  refreshInventory(key: PartKey, deploymentId: string, inventory: readonly InventoryEntry[]): Promise<void>;
}

/** The reconciler's queue of scheduled checks, each delivered after a delay (jitter). */
export interface CheckQueue {
  enqueueChecks(
    checks: readonly { readonly check: EnvironmentCheck; readonly delaySeconds: number }[],
  ): Promise<void>;
}

/** A commit status as a host receives it: the part's status with its context and link resolved. */
export interface PostedStatus extends CommitStatus {
  readonly context: string;
}

/** Posts commit statuses to one kind of Git host. Throws a `Failure` with its class when the host refuses. */
export interface StatusReporter {
  post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void>;
}

/** Sends a message about a part's change of state (SNS, a chat webhook, a signed JSON webhook). */
export interface Notifier {
  readonly name: string;
  notify(change: SyncChange): Promise<void>;
}

/**
 * What an operator reads of an install (the local state directory, or an AWS stack's table and queues): the
 * operations read model's sources. Reads only: nothing here takes a job from the queue or changes a part.
 */
export interface OperationsReader {
  /** The parts to show: the configured ones and any other the store can list (a DynamoDB table lists none). */
  parts(configured: readonly PartKey[]): Promise<PartKey[]>;
  part(key: PartKey): Promise<PartSnapshot>;
  /** Newest first. */
  history(key: PartKey, limit: number): Promise<DeploymentRecord[]>;
  /** Newest first; checks are kept a week. */
  checks(key: PartKey, limit: number): Promise<CheckRecord[]>;
  queue(): Promise<QueueSnapshot>;
  /** The deploy queue's dead letters, oldest first; they stay where they are. */
  deadLetters(): Promise<DeadLetterStatus[]>;
}

/** What an operator does to an install: enqueue manual jobs, redrive dead letters, suspend and resume parts. */
export interface Operations extends OperationsReader, JobQueue {
  /** Puts the dead letters of these ids back on the deploy queue; resolves the ids it found and put back. */
  redrive(ids: readonly string[]): Promise<string[]>;
  /** Suspends the part (it takes no pushes or checks, only manual jobs), or with null resumes it. */
  suspend(key: PartKey, suspension: Suspension | null): Promise<void>;
}
