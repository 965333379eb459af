import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { IgnoreRule } from '../config.ts';
import { classify, errorMessage } from '../errors.ts';
import type { InventoryEntry, ObjectResult } from '../model/inventory.ts';
import { describeRef, type KubeObject, refKey, refOf } from '../objects.ts';
import { ownerLabels } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { differs, hasIgnoredFields, keepIgnoredLiveValues } from './diff.ts';
import {
  ApplyFailed,
  classOfAll,
  isImmutableFieldError,
  isMissingNamespaceError,
  list,
  RevisionRejected,
} from './errors.ts';
import { healthOf } from './health.ts';
import { HookFailed, Hooks } from './hooks.ts';
import { byWave, type Stage } from './order.ts';
import { type Planned, type PrepareOptions, plan } from './prepare.ts';
import { describeUnhealthy, type WaitBudget, waitUntilGone, waitWithin } from './wait.ts';

export interface ApplyOptions extends PrepareOptions {
  /** The inventory of the last applied revision. */
  readonly previous: readonly InventoryEntry[];
  readonly recreateOnImmutableChange: boolean;
  /** Fields whose live values are kept: another manager (an HPA, a webhook) owns them. */
  readonly ignore: readonly IgnoreRule[];
  /** Requests in flight at once (default 32: the API server's parallelism, not ours, is the limit). */
  readonly concurrency?: number;
  /** The deployment's id, which names the hooks it creates (default: a new id). */
  readonly runId?: string;
  /** How long a wave or a hook may take to become Current (default: 300 s, no deadline). */
  readonly budget?: WaitBudget;
  /** The part's first deployment, when Helm's install hooks run (default: no previous inventory). */
  readonly firstDeployment?: boolean;
}

export interface AppliedRevision {
  readonly results: readonly ObjectResult[];
  readonly inventory: readonly InventoryEntry[];
  /** The live objects after the apply, to wait on for health. */
  readonly live: readonly KubeObject[];
  /** The objects as Git says (defaulted and labelled): what drift detection compares the cluster with. */
  readonly desired: readonly KubeObject[];
  /** The revision's hooks: its pre-sync ones have run; post-sync and sync-fail are the deployment's to run. */
  readonly hooks: Hooks;
}

/** The refs of the objects a revision holds once prepared, to tell what a deployment would prune. */
export async function plannedRefs(
  objects: readonly KubeObject[],
  options: PrepareOptions,
): Promise<Set<string>> {
  const { planned } = await plan(objects, options);
  return new Set(planned.map((p) => p.key));
}

const DEFAULT_BUDGET: WaitBudget = { timeoutMs: 300_000 };

/** A revision validated against the cluster with server-side dry-runs; nothing changed. */
export interface DryRunRevision {
  /** Its objects and hooks, each with what validation learnt: live object, dry-run result, deferral, re-creation. */
  readonly planned: readonly Planned[];
  /** The objects the revision or the API server refuses, each with its reason. */
  readonly rejections: ObjectResult[];
  /** The errors behind the API server's refusals, for their class. */
  readonly errors: readonly unknown[];
  /** Hooks of kinds or events Ferry does not run here. */
  readonly skipped: ObjectResult[];
  readonly hooks: Hooks;
}

/**
 * The validation of a deployment, and nothing else: every object, hooks included, prepared as the engine
 * applies it and dry-run against the cluster (objects known unchanged excepted). A plan stops here.
 */
export async function dryRunRevision(
  objects: readonly KubeObject[],
  options: ApplyOptions,
  limit: LimitFunction = pLimit(options.concurrency ?? 32),
): Promise<DryRunRevision> {
  const { planned: all, rejections, skipped } = await plan(objects, options);
  const planned = withoutHooksOfOtherEvents(all, options, skipped);
  const hooks = new Hooks(
    planned.filter((p) => p.hook !== undefined),
    {
      cluster: options.cluster,
      runId: options.runId ?? randomBytes(8).toString('hex'),
      budget: options.budget ?? DEFAULT_BUDGET,
    },
  );
  await readLiveObjects(
    planned.filter((p) => p.hook === undefined),
    options,
    limit,
  );
  const errors = await dryRunEach(planned, objects, options, limit, rejections, hooks);
  return { planned, rejections, errors, skipped, hooks };
}

/**
 * Applies a rendered revision with server-side apply, as Flux's kustomize-controller does: every object, hooks
 * included, is validated by a server-side dry-run before anything changes; then the pre-sync hooks run; then
 * the waves apply in order (each Current before the next), each wave's stages in order and each stage in
 * parallel. Objects whose dry-run equals the live object are not sent, so their resourceVersion does not move.
 * A failure after validation that is not transient runs the sync-fail hooks.
 */
export async function applyRevision(
  objects: readonly KubeObject[],
  options: ApplyOptions,
): Promise<AppliedRevision> {
  const limit = pLimit(options.concurrency ?? 32);
  const { planned, rejections, errors, skipped, hooks } = await dryRunRevision(objects, options, limit);
  refuseRejected(rejections, errors);
  const app = planned.filter((p) => p.hook === undefined);
  const reached: Reached = { results: [], inventory: [], live: [] };
  // The namespaces hooks need, when the revision brings them, come first: a first deployment has none yet.
  const needed = new Set(
    planned.filter((p) => p.hook !== undefined && p.deferred).map((p) => p.ref.namespace),
  );
  const early = app.filter((p) => p.ref.kind === 'Namespace' && needed.has(p.ref.name));
  try {
    if (early.length > 0)
      await applyStage('definitions', early, ' for the hooks', options.cluster, limit, reached, app);
    reached.results.push(...(await hooks.run('pre-sync')));
    await applyWaves(
      app.filter((p) => !early.includes(p)),
      options,
      limit,
      reached,
      app,
    );
  } catch (error) {
    if (classify(error) === 'transient') throw error;
    let message = errorMessage(error);
    if (error instanceof HookFailed) {
      reached.results.push(...error.results);
      const changed = early.length === 0 ? 'no app object changed' : 'nothing applied but its namespaces';
      message = error.message.replace(':\n', `, ${changed}:\n`);
    }
    const results = [...skipped, ...reached.results, ...(await hooks.runSyncFail())];
    throw new ApplyFailed(classify(error), message, results);
  }
  const { inventory, live } = reached;
  return {
    results: [...skipped, ...reached.results],
    inventory,
    live,
    desired: app.map((p) => p.desired),
    hooks,
  };
}

/** Helm's install hooks run at a part's first deployment only, its upgrade hooks at the others: the rest are skipped. */
function withoutHooksOfOtherEvents(
  planned: Planned[],
  options: ApplyOptions,
  skipped: ObjectResult[],
): Planned[] {
  const first = options.firstDeployment ?? options.previous.length === 0;
  const now = first ? 'install' : 'upgrade';
  return planned.filter((p) => {
    if (p.hook?.only === undefined || p.hook.only === now) return true;
    const why = first ? 'this is the first deployment' : 'this is not the first deployment';
    skipped.push({
      ref: p.ref,
      action: 'skipped',
      message: `${describeRef(p.ref)}: a Helm ${p.hook.only} hook, and ${why}`,
    });
    return false;
  });
}

/**
 * Dry-runs every object that is not known unchanged, with the live values kept at ignored pointers; adds each
 * refusal to `rejections` and resolves the errors behind them.
 */
async function dryRunEach(
  planned: Planned[],
  objects: readonly KubeObject[],
  options: ApplyOptions,
  limit: LimitFunction,
  rejections: ObjectResult[],
  hooks: Hooks,
): Promise<unknown[]> {
  const { cluster } = options;
  const declaredNamespaces = new Set(
    objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
  );
  const errors: unknown[] = [];
  const check = async (p: Planned) => {
    try {
      if (p.hook !== undefined) {
        p.object = hooks.dryRunObject(p);
        p.dryRun = withoutManagedFields(await cluster.apply(p.object, { dryRun: true }));
        return;
      }
      if (p.live === undefined && hasIgnoredFields(p.desired, options.ignore))
        p.live = await cluster.get(p.ref);
      p.object = keepIgnoredLiveValues(p.desired, p.live, options.ignore);
      p.dryRun = withoutManagedFields(await cluster.apply(p.object, { dryRun: true }));
      // It exists, but was not listed (not ours yet, or not in the previous revision): read it to compare.
      if (p.live === undefined && p.dryRun.metadata.resourceVersion !== undefined)
        p.live = await cluster.get(p.ref);
    } catch (error) {
      if (
        p.ref.namespace !== undefined &&
        declaredNamespaces.has(p.ref.namespace) &&
        isMissingNamespaceError(error)
      )
        p.deferred = true;
      else if (options.recreateOnImmutableChange && isImmutableFieldError(error)) p.recreate = true;
      else {
        errors.push(error);
        rejections.push({
          ref: p.ref,
          action: 'failed',
          message: `${describeRef(p.ref)}: ${errorMessage(error)}`,
        });
      }
    }
  };
  await Promise.all(
    planned.filter((p) => !p.deferred && !p.knownUnchanged).map((p) => limit(() => check(p))),
  );
  return errors;
}

/**
 * Any rejection stops the revision before anything changes; so does a transient error (a connection reset, a
 * timeout), as a transient failure that the queue retries.
 */
function refuseRejected(rejections: readonly ObjectResult[], errors: readonly unknown[]): void {
  if (rejections.length === 0) return;
  if (classOfAll(errors) === 'transient') {
    throw new ApplyFailed(
      'transient',
      `validation was interrupted, nothing applied:\n${list(rejections)}`,
      [],
    );
  }
  throw new RevisionRejected(rejections);
}

/** What the waves applied so far. */
interface Reached {
  readonly results: ObjectResult[];
  readonly inventory: InventoryEntry[];
  readonly live: KubeObject[];
}

/**
 * Applies the waves in order, each Current before the next starts (the last is waited on with the rest of
 * the deployment, after pruning). A wave that fails, or is not Current in time, stops the revision there.
 */
async function applyWaves(
  items: Planned[],
  options: ApplyOptions,
  limit: LimitFunction,
  reached: Reached,
  app: readonly Planned[],
): Promise<void> {
  const waves = byWave(
    items,
    (p) => p.wave,
    (p) => p.ref.kind,
  );
  const budget = options.budget ?? DEFAULT_BUDGET;
  for (const [index, { wave, stages }] of waves.entries()) {
    const first = reached.live.length;
    const of = waves.length > 1 ? ` of wave ${wave}` : '';
    for (const [stage, members] of stages)
      await applyStage(stage, members, of, options.cluster, limit, reached, app);
    if (index === waves.length - 1) break;
    const { live, unhealthy } = await waitWithin(
      options.cluster,
      reached.live.slice(first),
      budget,
      `wave ${wave}`,
    );
    if (unhealthy.length > 0) {
      throw new ApplyFailed(
        'rejected',
        `wave ${wave} was not healthy after ${budget.timeoutMs / 1000}s, later waves not applied:\n${describeUnhealthy(unhealthy)}`,
        [...reached.results],
      );
    }
    reached.live.splice(first, live.length, ...live);
  }
}

/** Applies one stage in parallel; a failure stops the revision there. */
async function applyStage(
  stage: Stage,
  items: readonly Planned[],
  of: string,
  cluster: Cluster,
  limit: LimitFunction,
  reached: Reached,
  app: readonly Planned[],
): Promise<void> {
  const failures: ObjectResult[] = [];
  const errors: unknown[] = [];
  const applied: KubeObject[] = [];
  await Promise.all(
    items.map((p) =>
      limit(async () => {
        try {
          const { action, object } = await applyOne(cluster, p);
          reached.results.push({ ref: p.ref, action });
          reached.inventory.push({ ...p.ref, hash: p.hash, ...rv(object) });
          applied.push(object);
        } catch (error) {
          errors.push(error);
          failures.push({
            ref: p.ref,
            action: 'failed',
            message: `${describeRef(p.ref)}: ${errorMessage(error)}`,
          });
        }
      }),
    ),
  );
  reached.live.push(...applied);
  if (failures.length > 0) {
    const count = `${reached.inventory.length} of ${app.length} object(s) reached the revision`;
    reached.results.push(...failures);
    throw new ApplyFailed(
      classOfAll(errors),
      `applying ${stage}${of} failed (${count}):\n${list(failures)}`,
      [...reached.results],
    );
  }
  if (stage === 'definitions') await waitForDefinitions(cluster, applied);
}

const rv = (object: KubeObject): { resourceVersion?: string } =>
  object.metadata.resourceVersion === undefined ? {} : { resourceVersion: object.metadata.resourceVersion };

/**
 * What applying a validated object does: nothing when it is known unchanged or its dry-run equals the live
 * object; else it re-creates it (an immutable field changed, where the environment allows it), configures it
 * (it exists) or creates it.
 */
export function plannedAction(p: Planned): 'unchanged' | 'recreated' | 'configured' | 'created' {
  if (p.live !== undefined && (p.knownUnchanged || (p.dryRun !== undefined && !differs(p.dryRun, p.live))))
    return 'unchanged';
  if (p.recreate) return 'recreated';
  return p.live !== undefined || p.dryRun?.metadata.resourceVersion !== undefined ? 'configured' : 'created';
}

async function applyOne(
  cluster: Cluster,
  p: Planned,
): Promise<{ action: ObjectResult['action']; object: KubeObject }> {
  const action = plannedAction(p);
  if (action === 'unchanged' && p.live !== undefined) return { action, object: p.live };
  if (action === 'recreated') {
    await cluster.delete(p.ref);
    if ((await waitUntilGone(cluster, [p.ref], 60_000)).length > 0)
      throw new Error(`${describeRef(p.ref)} was not deleted in 60s, cannot re-create it`);
    return { action, object: withoutManagedFields(await cluster.apply(p.object, { dryRun: false })) };
  }
  return { action, object: withoutManagedFields(await cluster.apply(p.object, { dryRun: false })) };
}

/**
 * A dry-run's or an apply's result without its managedFields, dropped as it arrives: every comparison leaves
 * them out (ownership is read from the live object), and the health wait does not read them, while a revision
 * holds each object's results until it is done (about a third of a Deployment's bytes).
 */
function withoutManagedFields(object: KubeObject): KubeObject {
  const { managedFields: _, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/**
 * Reads the live objects of the previous revision with a few list calls (per kind and namespace, by ownership
 * label) instead of one request per object, and marks those known unchanged: same desired hash and same
 * resourceVersion as recorded at the last apply. Kinds and namespaces the previous revision did not have are
 * not listed: their dry-run tells whether they exist.
 */
async function readLiveObjects(
  planned: Planned[],
  options: ApplyOptions,
  limit: LimitFunction,
): Promise<void> {
  const previous = new Map(options.previous.map((entry) => [refKey(entry), entry]));
  const groups = new Map<string, Planned[]>();
  for (const p of planned) {
    if (p.deferred) continue;
    const group = `${p.ref.apiVersion}|${p.ref.kind}|${p.ref.namespace ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), p]);
  }
  const labels = ownerLabels(options.owner);
  await Promise.all(
    [...groups.values()]
      .filter((members) => members.some((p) => previous.has(p.key)))
      .map((members) =>
        limit(async () => {
          const [{ ref }] = members as [Planned];
          const found = await options.cluster.list(ref.apiVersion, ref.kind, ref.namespace, labels);
          const byName = new Map(found.map((o) => [o.metadata.name, o]));
          for (const p of members) {
            p.live = byName.get(p.ref.name);
            const before = previous.get(p.key);
            p.knownUnchanged =
              before !== undefined &&
              before.hash === p.hash &&
              before.resourceVersion !== undefined &&
              before.resourceVersion === p.live?.metadata.resourceVersion;
          }
        }),
      ),
  );
}

/** CRDs must be established before their custom resources are applied. */
async function waitForDefinitions(cluster: Cluster, live: KubeObject[]): Promise<void> {
  const crds = live.filter((o) => o.kind === 'CustomResourceDefinition');
  if (crds.length === 0) return;
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    let latest: KubeObject | undefined = crd;
    while (latest !== undefined && healthOf(latest).status !== 'Current') {
      if (Date.now() > deadline)
        throw new ApplyFailed('transient', `${describeRef(refOf(crd))} was not established in 60s`, []);
      await sleep(100);
      latest = await cluster.get(refOf(crd));
    }
  }
  cluster.refreshResourceTypes();
}
