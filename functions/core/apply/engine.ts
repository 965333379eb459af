import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { IgnoreRule } from '../config.ts';
import { errorMessage } from '../errors.ts';
import type { InventoryEntry, ObjectResult } from '../model/inventory.ts';
import { describeRef, type KubeObject, type ObjectRef, refKey, refOf } from '../objects.ts';
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
import { byStage } from './order.ts';
import { type Planned, type PrepareOptions, plan } from './prepare.ts';

export interface ApplyOptions extends PrepareOptions {
  /** The inventory of the last applied revision. */
  readonly previous: readonly InventoryEntry[];
  readonly recreateOnImmutableChange: boolean;
  /** Fields whose live values are kept: another manager (an HPA, a webhook) owns them. */
  readonly ignore: readonly IgnoreRule[];
  /** Requests in flight at once (default 32: the API server's parallelism, not ours, is the limit). */
  readonly concurrency?: number;
}

export interface AppliedRevision {
  readonly results: readonly ObjectResult[];
  readonly inventory: readonly InventoryEntry[];
  /** The live objects after the apply, to wait on for health. */
  readonly live: readonly KubeObject[];
  /** The objects as Git says (defaulted and labelled): what drift detection compares the cluster with. */
  readonly desired: readonly KubeObject[];
}

/** The refs of the objects a revision holds once prepared, to tell what a deployment would prune. */
export async function plannedRefs(
  objects: readonly KubeObject[],
  options: PrepareOptions,
): Promise<Set<string>> {
  const { planned } = await plan(objects, options);
  return new Set(planned.map((p) => p.key));
}

/**
 * Applies a rendered revision with server-side apply, as Flux's kustomize-controller does: every object is
 * validated by a server-side dry-run before anything changes; stages apply in order, each in parallel;
 * objects whose dry-run equals the live object are not sent, so their resourceVersion does not move.
 */
export async function applyRevision(
  objects: readonly KubeObject[],
  options: ApplyOptions,
): Promise<AppliedRevision> {
  const limit = pLimit(options.concurrency ?? 32);
  const { planned, rejections } = await plan(objects, options);
  await readLiveObjects(planned, options, limit);
  await validate(planned, objects, options, limit, rejections);
  const applied = await applyStages(planned, options.cluster, limit);
  return { ...applied, desired: planned.map((p) => p.desired) };
}

/**
 * Dry-runs every object that is not known unchanged, with the live values kept at ignored pointers. Any
 * rejection stops the revision before anything changes; so does a transient error (a connection reset, a
 * timeout), as a transient failure that the queue retries.
 */
async function validate(
  planned: Planned[],
  objects: readonly KubeObject[],
  options: ApplyOptions,
  limit: LimitFunction,
  rejections: ObjectResult[],
): Promise<void> {
  const { cluster } = options;
  const declaredNamespaces = new Set(
    objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
  );
  const errors: unknown[] = [];
  const check = async (p: Planned) => {
    try {
      if (p.live === undefined && hasIgnoredFields(p.desired, options.ignore))
        p.live = await cluster.get(p.ref);
      p.object = keepIgnoredLiveValues(p.desired, p.live, options.ignore);
      p.dryRun = await cluster.apply(p.object, { dryRun: true });
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

/** Applies the stages in order, each in parallel; the first stage with a failure stops the revision there. */
async function applyStages(planned: Planned[], cluster: Cluster, limit: LimitFunction) {
  const results: ObjectResult[] = [];
  const inventory: InventoryEntry[] = [];
  const live: KubeObject[] = [];
  for (const [stage, items] of byStage(planned, (p) => p.ref.kind)) {
    const failures: ObjectResult[] = [];
    const errors: unknown[] = [];
    await Promise.all(
      items.map((p) =>
        limit(async () => {
          try {
            const { action, object } = await applyOne(cluster, p);
            results.push({ ref: p.ref, action });
            inventory.push({ ...p.ref, hash: p.hash, ...rv(object) });
            live.push(object);
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
    if (failures.length > 0) {
      const reached = `${results.length} of ${planned.length} object(s) reached the revision`;
      throw new ApplyFailed(classOfAll(errors), `applying ${stage} failed (${reached}):\n${list(failures)}`, [
        ...results,
        ...failures,
      ]);
    }
    if (stage === 'definitions') await waitForDefinitions(cluster, live);
  }
  return { results, inventory, live };
}

const rv = (object: KubeObject): { resourceVersion?: string } =>
  object.metadata.resourceVersion === undefined ? {} : { resourceVersion: object.metadata.resourceVersion };

async function applyOne(
  cluster: Cluster,
  p: Planned,
): Promise<{ action: ObjectResult['action']; object: KubeObject }> {
  if (p.live !== undefined && (p.knownUnchanged || (p.dryRun !== undefined && !differs(p.dryRun, p.live)))) {
    return { action: 'unchanged', object: p.live };
  }
  if (p.recreate) {
    await cluster.delete(p.ref);
    await waitUntilGone(cluster, p.ref);
    return { action: 'recreated', object: await cluster.apply(p.object, { dryRun: false }) };
  }
  const existed = p.live !== undefined || p.dryRun?.metadata.resourceVersion !== undefined;
  const object = await cluster.apply(p.object, { dryRun: false });
  return { action: existed ? 'configured' : 'created', object };
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

async function waitUntilGone(cluster: Cluster, ref: ObjectRef): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await cluster.get(ref)) !== undefined) {
    if (Date.now() > deadline)
      throw new Error(`${describeRef(ref)} was not deleted in 60s, cannot re-create it`);
    await sleep(200);
  }
}
