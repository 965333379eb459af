import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import {
  describeRef,
  groupOf,
  hashObject,
  type KubeObject,
  type ObjectRef,
  refKey,
  refOf,
} from '../objects.ts';
import { type Owner, ownerLabels } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { differs } from './diff.ts';
import {
  ApplyFailed,
  errorMessage,
  isImmutableFieldError,
  isMissingNamespaceError,
  RevisionRejected,
} from './errors.ts';
import { healthOf } from './health.ts';
import type { InventoryEntry, ObjectResult } from './inventory.ts';
import { byStage } from './order.ts';

export interface ApplyOptions {
  readonly cluster: Cluster;
  readonly owner: Owner;
  /** Namespace of namespaced objects that name none. */
  readonly defaultNamespace: string;
  /** The inventory of the last applied revision. */
  readonly previous: readonly InventoryEntry[];
  readonly recreateOnImmutableChange: boolean;
  /** Requests in flight at once (default 32: the API server's parallelism, not ours, is the limit). */
  readonly concurrency?: number;
}

export interface AppliedRevision {
  readonly results: readonly ObjectResult[];
  readonly inventory: readonly InventoryEntry[];
  /** The live objects after the apply, to wait on for health. */
  readonly live: readonly KubeObject[];
  /** The objects as applied (defaulted and labelled): what drift detection compares the cluster with. */
  readonly desired: readonly KubeObject[];
}

/** An object ready to apply: defaulted, labelled, hashed, and what is known of it before any change. */
interface Planned {
  readonly object: KubeObject;
  readonly ref: ObjectRef;
  readonly key: string;
  readonly hash: string;
  /** Its kind or namespace comes with this revision, so it can be checked only once they exist. */
  deferred: boolean;
  live?: KubeObject | undefined;
  dryRun?: KubeObject;
  recreate?: boolean;
  knownUnchanged?: boolean;
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
  const { cluster } = options;
  const limit = pLimit(options.concurrency ?? 32);
  const { planned, rejections } = await plan(objects, options);
  await readLiveObjects(planned, options, limit);

  // Validate: dry-run every object that is not known unchanged. Any rejection stops the revision here.
  const declaredNamespaces = new Set(
    objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
  );
  await Promise.all(
    planned
      .filter((p) => !p.deferred && !p.knownUnchanged)
      .map((p) =>
        limit(async () => {
          try {
            p.dryRun = await cluster.apply(p.object, { dryRun: true });
            // It exists, but was not listed (not ours yet, or not in the previous revision): read it to compare.
            if (p.live === undefined && p.dryRun.metadata.resourceVersion !== undefined)
              p.live = await cluster.get(p.ref);
          } catch (error) {
            if (
              p.ref.namespace !== undefined &&
              declaredNamespaces.has(p.ref.namespace) &&
              isMissingNamespaceError(error)
            ) {
              p.deferred = true;
            } else if (options.recreateOnImmutableChange && isImmutableFieldError(error)) {
              p.recreate = true;
            } else {
              rejections.push({
                ref: p.ref,
                action: 'failed',
                message: `${describeRef(p.ref)}: ${errorMessage(error)}`,
              });
            }
          }
        }),
      ),
  );
  if (rejections.length > 0) throw new RevisionRejected(rejections);

  const results: ObjectResult[] = [];
  const inventory: InventoryEntry[] = [];
  const live: KubeObject[] = [];
  for (const [stage, items] of byStage(planned, (p) => p.ref.kind)) {
    const failures: ObjectResult[] = [];
    await Promise.all(
      items.map((p) =>
        limit(async () => {
          try {
            const { action, object } = await applyOne(cluster, p);
            results.push({ ref: p.ref, action });
            inventory.push({ ...p.ref, hash: p.hash, ...rv(object) });
            live.push(object);
          } catch (error) {
            const message = `${describeRef(p.ref)}: ${errorMessage(error)}`;
            failures.push({ ref: p.ref, action: 'failed', message });
          }
        }),
      ),
    );
    if (failures.length > 0) {
      throw new ApplyFailed(
        `applying ${stage} failed:\n${failures.map((f) => `- ${f.message}`).join('\n')}`,
        [...results, ...failures],
      );
    }
    if (stage === 'definitions') await waitForDefinitions(cluster, live);
  }
  return { results, inventory, live, desired: planned.map((p) => p.object) };
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

/** Defaults namespaces, adds ownership labels, and rejects kinds that neither the cluster nor the revision define. */
/** The objects as the engine applies them: namespaces defaulted, ownership labels added. */
export async function prepareObjects(
  objects: readonly KubeObject[],
  options: Pick<ApplyOptions, 'cluster' | 'owner' | 'defaultNamespace'>,
): Promise<KubeObject[]> {
  const { planned, rejections } = await plan(objects, options);
  if (rejections.length > 0) throw new RevisionRejected(rejections);
  return planned.map((p) => p.object);
}

async function plan(
  objects: readonly KubeObject[],
  options: Pick<ApplyOptions, 'cluster' | 'owner' | 'defaultNamespace'>,
): Promise<{ planned: Planned[]; rejections: ObjectResult[] }> {
  const definedKinds = new Map<string, boolean>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const spec = (o.spec ?? {}) as { group?: string; scope?: string; names?: { kind?: string } };
    definedKinds.set(`${spec.group}/${spec.names?.kind}`, spec.scope === 'Namespaced');
  }
  const rejections: ObjectResult[] = [];
  const seen = new Set<string>();
  const planned: Planned[] = [];
  for (const source of objects) {
    const served = await options.cluster.resourceType(source.apiVersion, source.kind);
    const namespaced = served?.namespaced ?? definedKinds.get(`${groupOf(source.apiVersion)}/${source.kind}`);
    if (namespaced === undefined) {
      const ref = refOf(source);
      rejections.push({
        ref,
        action: 'failed',
        message: `${describeRef(ref)}: the cluster does not serve kind ${source.kind} (${source.apiVersion}) and no CRD in this revision defines it`,
      });
      continue;
    }
    const { namespace, ...metadata } = source.metadata;
    const object: KubeObject = {
      ...source,
      metadata: {
        ...metadata,
        ...(namespaced ? { namespace: namespace ?? options.defaultNamespace } : {}),
        labels: { ...source.metadata.labels, ...ownerLabels(options.owner) },
      },
    };
    const ref = refOf(object);
    const key = refKey(ref);
    if (seen.has(key)) {
      rejections.push({ ref, action: 'failed', message: `${describeRef(ref)}: declared more than once` });
      continue;
    }
    seen.add(key);
    planned.push({ object, ref, key, hash: hashObject(object), deferred: served === undefined });
  }
  return { planned, rejections };
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
        throw new ApplyFailed(`${describeRef(refOf(crd))} was not established in 60s`, []);
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
