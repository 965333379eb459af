// The deploy use case: a job in, a recorded deployment out, in named steps:
// lock, decide (follow the ref or the environment followed, honour a pin, wait for dependencies), fetch and
// render, validate, run the pre-sync hooks, apply wave by wave, prune, wait, run the post-sync hooks, record;
// then release the dependents a success lets go.
import { applyRevision, plannedRefs } from '../apply/engine.ts';
import { HookFailed } from '../apply/hooks.ts';
import { pruneCandidates, pruneObjects } from '../apply/prune.ts';
import { describeUnhealthy, type WaitBudget, waitWithin } from '../apply/wait.ts';
import { classify, errorMessage } from '../errors.ts';
import type { FeedbackEvents } from '../feedback/feedback.ts';
import { short } from '../model/commit.ts';
import { statusesOf } from '../model/feedback.ts';
import type { InventoryEntry, ObjectResult } from '../model/inventory.ts';
import type { DeployJob } from '../model/job.ts';
import { type ConfiguredPart, clusterOf, findPart, keyOf } from '../model/part.ts';
import type { DeploymentRecord, EnvironmentState, StateChange } from '../model/records.ts';
import { type KubeObject, refKey, refOf } from '../objects.ts';
import type { Cluster, ClusterConnector, EnvironmentStore, JobQueue } from '../ports.ts';
import { RefsCache, remoteOf, renderRevision, type SourceDependencies } from '../source/revision.ts';
import { checkDeletionBudget, checkRevisionSize } from './budget.ts';
import { type Decision, decide } from './decide.ts';
import { dependencyWait, headFor, releasedBy } from './gates.ts';
import { Lease } from './lease.ts';
import { DeploymentRun, summarise, syncOf } from './run.ts';

export { EnvironmentBusy } from './lease.ts';

export interface DeployDependencies extends SourceDependencies {
  readonly store: EnvironmentStore;
  readonly clusters: ClusterConnector;
  /** Commit statuses and notifications; none, and nothing is told. */
  readonly feedback?: FeedbackEvents;
  /**
   * The deploy queue, to enqueue the dependents a successful deployment releases; without it they deploy at
   * their next check.
   */
  readonly queue?: JobQueue;
}

export interface DeployOptions {
  /** Remote refs shared by the jobs of one batch. */
  readonly refs?: RefsCache;
  /** When the deployment must be over (ms since the epoch): the function's own timeout, less a margin. */
  readonly deadline?: number;
}

/** Time kept back from the deadline to record the outcome. */
const RECORD_MARGIN_MS = 20_000;

/**
 * Runs one job. Rejected and configuration failures are recorded Failed and returned; transient ones are
 * recorded as an attempt and thrown, so that the queue retries the job with backoff and dead-letters it at last.
 */
export async function deploy(
  job: DeployJob,
  deps: DeployDependencies,
  options: DeployOptions = {},
): Promise<DeploymentRecord> {
  const run = new DeploymentRun(job);
  const found = findPart(deps.config, job);
  if (found === undefined) {
    const record = run.record(
      'failed',
      `no environment ${job.environment} of app ${job.app} (part ${job.part}) in the configuration`,
      [],
      'configuration',
    );
    await deps.store.appendHistory(record);
    return record;
  }
  const lease = await Lease.take(deps.store, job, run.id);
  try {
    const state = await deps.store.get(job);
    if (state?.recentJobs.includes(job.id))
      return run.record('duplicate', `job ${job.id} was recorded before`);
    run.previousSync = state?.sync.status;
    return await deployLocked(run, found, state, deps, options).catch((error: unknown) =>
      recordFailure(run, deps, error),
    );
  } finally {
    await lease.release();
  }
}

/** Under the lock: decide, then apply or record why not. */
async function deployLocked(
  run: DeploymentRun,
  found: ConfiguredPart,
  state: EnvironmentState | undefined,
  deps: DeployDependencies,
  options: DeployOptions,
): Promise<DeploymentRecord> {
  const remote = await remoteOf(deps.config, deps.secrets, found.app);
  const cache = options.refs ?? new RefsCache();
  const decision = await gate(run, found, state, deps, { cache, refs: await cache.list(deps.git, remote) });
  run.target = decision.target;
  if (decision.kind !== 'apply') {
    const record = run.record(RESULTS[decision.kind], decision.message);
    const behind = decision.kind === 'wait' && decision.behind;
    const sync = { status: 'OutOfSync' as const, message: record.message, at: record.finishedAt };
    await recordAndTell(run, deps, record, behind ? { sync: { ...sync, commit: record.commit } } : {});
    return record;
  }
  deps.feedback?.status({
    ...decision.target,
    key: keyOf(run.job),
    state: 'running',
    description: 'deploying',
    deploymentId: run.id,
  });
  if (decision.pin !== undefined) run.pinChange = { pin: decision.pin };
  const objects = await renderRevision(deps, remote, found, decision.target.commit);
  const record = await applyObjects(run, found, state, objects, deps, options.deadline);
  // Best effort: a dependent not enqueued now is deployed at its next check.
  if (record.result === 'succeeded' && deps.queue !== undefined) {
    const released = await releasedBy(deps, record, cache).catch(() => []);
    if (released.length > 0) await deps.queue.enqueue(released).catch(() => undefined);
  }
  return record;
}

const RESULTS = { skip: 'skipped', current: 'current', wait: 'waiting' } as const;

/**
 * Decides, and holds back an automatic deployment whose dependencies are not ready: a manual deploy or a heal
 * of what runs already goes ahead.
 */
async function gate(
  run: DeploymentRun,
  found: ConfiguredPart,
  state: EnvironmentState | undefined,
  deps: DeployDependencies,
  { cache, refs }: { cache: RefsCache; refs: ReadonlyMap<string, string> },
): Promise<Decision> {
  const { job } = run;
  const now = Date.now();
  const followed =
    found.environment.follow === undefined ? undefined : await headFor(deps, found, keyOf(job), cache, now);
  const decision = decide(job, found.environment, state, refs, followed);
  const heal = job.trigger.kind === 'reconcile' && job.trigger.reason === 'drift';
  if (decision.kind !== 'apply' || job.trigger.kind === 'manual' || heal) return decision;
  const waiting = await dependencyWait(deps, found, cache, now);
  return waiting === undefined
    ? decision
    : { kind: 'wait', target: decision.target, message: waiting, behind: true };
}

/** Validate, apply, prune, wait and record one rendered revision. */
async function applyObjects(
  run: DeploymentRun,
  found: ConfiguredPart,
  state: EnvironmentState | undefined,
  objects: KubeObject[],
  deps: DeployDependencies,
  deadline: number | undefined,
): Promise<DeploymentRecord> {
  const { environment, settings } = found;
  checkRevisionSize(objects, found, run.target?.commit ?? run.job.commit);
  const cluster = await deps.clusters.connect(clusterOf(deps.config, environment));
  const owner = keyOf(run.job);
  const previous = state?.inventory ?? [];
  const prepare = { cluster, owner, defaultNamespace: environment.namespace };
  const healthMs = environment.healthTimeoutSeconds * 1000;
  const budget = {
    timeoutMs: healthMs,
    deadline: deadline === undefined ? undefined : deadline - RECORD_MARGIN_MS,
  };
  if (settings.prune && !overridesBudget(run.job))
    checkDeletionBudget(
      environment,
      previous,
      pruneCandidates(previous, await plannedRefs(objects, prepare)),
    );
  const applied = await applyRevision(objects, {
    ...prepare,
    previous,
    recreateOnImmutableChange: environment.recreateOnImmutableChange,
    ignore: environment.ignoreDifferences,
    runId: run.id,
    budget,
    firstDeployment: state?.lastApplied === undefined,
  });
  const pruned = settings.prune
    ? await pruneObjects(previous, applied.inventory, {
        cluster,
        owner,
        allowPersistentVolumeClaims: environment.prunePersistentVolumeClaims,
        spare: applied.hooks.keys,
        goneTimeoutMs: Math.min(healthMs, 60_000),
      })
    : [];
  return settle(run, { cluster, found, applied, pruned, previous, budget }, deps);
}

interface Applied {
  readonly cluster: Cluster;
  readonly found: ConfiguredPart;
  readonly applied: Awaited<ReturnType<typeof applyRevision>>;
  readonly pruned: readonly ObjectResult[];
  readonly previous: readonly InventoryEntry[];
  readonly budget: WaitBudget;
}

/**
 * Waits for health within the health timeout and the deadline, runs the post-sync hooks once healthy (the
 * sync-fail ones when anything failed), then records the outcome.
 */
async function settle(
  run: DeploymentRun,
  step: Applied,
  deps: DeployDependencies,
): Promise<DeploymentRecord> {
  const { applied, pruned, found } = step;
  const { live, unhealthy } = await waitWithin(step.cluster, applied.live, step.budget, 'health');
  const failedPrunes = pruned.filter((r) => r.action === 'failed');
  const problems = [
    ...(unhealthy.length > 0
      ? [`not healthy after ${found.environment.healthTimeoutSeconds}s:\n${describeUnhealthy(unhealthy)}`]
      : []),
    ...failedPrunes.map((r) => r.message ?? ''),
  ];
  const hooks = await runPostSync(applied.hooks, problems);
  const results = [...applied.results, ...pruned, ...hooks];
  const commit = run.target?.commit ?? run.job.commit;
  const record =
    problems.length > 0
      ? run.record('failed', problems.join('\n'), results, 'rejected')
      : run.record('succeeded', `applied ${short(commit)}: ${summarise(results)}`, results);
  const change: StateChange = {
    ...run.pinChange,
    sync: syncOf(record),
    applied: {
      commit: { commit, ref: record.ref, deploymentId: run.id, appliedAt: record.finishedAt },
      inventory: keepUnpruned(withSettledVersions(applied.inventory, live), step.previous, pruned),
      desired: applied.desired,
    },
  };
  await recordAndTell(run, deps, record, change);
  return record;
}

/** The post-sync hooks of a healthy deployment; the sync-fail hooks of one with problems (a failed hook adds one). */
async function runPostSync(hooks: Applied['applied']['hooks'], problems: string[]): Promise<ObjectResult[]> {
  const results: ObjectResult[] = [];
  if (problems.length === 0) {
    try {
      results.push(...(await hooks.run('post-sync')));
    } catch (error) {
      if (!(error instanceof HookFailed)) throw error;
      results.push(...error.results);
      problems.push(error.message);
    }
  }
  if (problems.length > 0) results.push(...(await hooks.runSyncFail()));
  return results;
}

/**
 * Records a failed run with its class and the objects it reached. A transient failure is thrown again after
 * recording (best effort), so that the queue retries it; the others are the deployment's outcome.
 */
async function recordFailure(
  run: DeploymentRun,
  deps: DeployDependencies,
  error: unknown,
): Promise<DeploymentRecord> {
  const failure = classify(error);
  const results = (error as { results?: readonly ObjectResult[] }).results ?? [];
  const message =
    failure === 'transient'
      ? `attempt failed, the job will be retried: ${errorMessage(error)}`
      : errorMessage(error);
  const record = run.record('failed', message, results, failure);
  const change: StateChange = { ...run.pinChange, sync: syncOf(record) };
  if (failure !== 'transient') {
    await recordAndTell(run, deps, record, change);
    return record;
  }
  await recordAndTell(run, deps, record, change).catch(() => undefined);
  throw error;
}

/** Records the deployment, then tells the commit and, when the part's sync status changed, whoever listens. */
async function recordAndTell(
  run: DeploymentRun,
  deps: DeployDependencies,
  record: DeploymentRecord,
  change: StateChange,
): Promise<void> {
  await deps.store.recordDeployment(record, change);
  const { feedback } = deps;
  if (feedback === undefined) return;
  for (const status of statusesOf(record, Date.parse(record.finishedAt) - Date.parse(record.startedAt)))
    feedback.status(status);
  const to = change.sync?.status;
  if (to !== undefined && to !== run.previousSync) {
    feedback.changed({
      key: record.key,
      from: run.previousSync ?? 'Unknown',
      to,
      commit: record.commit,
      message: record.message,
      at: record.finishedAt,
    });
  }
}

const overridesBudget = (job: DeployJob) =>
  job.trigger.kind === 'manual' && job.trigger.overrideDeletionBudget;

/** Records the resourceVersions objects settled at once healthy, so an untouched one is known unchanged next time. */
function withSettledVersions(
  inventory: readonly InventoryEntry[],
  live: readonly KubeObject[],
): InventoryEntry[] {
  const versions = new Map(live.map((object) => [refKey(refOf(object)), object.metadata.resourceVersion]));
  return inventory.map((entry) => {
    const resourceVersion = versions.get(refKey(entry));
    return resourceVersion === undefined ? entry : { ...entry, resourceVersion };
  });
}

/** Objects whose prune failed stay in the inventory, so the next deployment tries again. */
function keepUnpruned(
  next: readonly InventoryEntry[],
  previous: readonly InventoryEntry[],
  pruned: readonly ObjectResult[],
): InventoryEntry[] {
  const failed = new Set(pruned.filter((r) => r.action === 'failed').map((r) => refKey(r.ref)));
  return [...next, ...previous.filter((entry) => failed.has(refKey(entry)))];
}
