// Preparing rendered objects for the cluster: namespaces defaulted, ownership labels added, kinds checked
// against what the cluster and the revision's CRDs define. Shared by the apply engine and drift detection.
import type { ObjectResult } from '../model/inventory.ts';
import type { PartKey } from '../model/part.ts';
import {
  describeRef,
  groupOf,
  hashObject,
  type KubeObject,
  type ObjectRef,
  refKey,
  refOf,
} from '../objects.ts';
import { ownerLabels } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { type HookSpec, orderingOf } from './annotations.ts';
import { RevisionRejected } from './errors.ts';

export interface PrepareOptions {
  readonly cluster: Cluster;
  readonly owner: PartKey;
  /** Namespace of namespaced objects that name none. */
  readonly defaultNamespace: string;
}

/** An object ready to apply: defaulted, labelled, hashed, and what is known of it before any change. */
export interface Planned {
  /** The object as Git says, defaulted and labelled: what is hashed, stored and compared for drift. */
  readonly desired: KubeObject;
  /** The object as sent: `desired` with the live values kept at ignored pointers. */
  object: KubeObject;
  readonly ref: ObjectRef;
  readonly key: string;
  readonly hash: string;
  /** Its kind or namespace comes with this revision, so it can be checked only once they exist. */
  deferred: boolean;
  /**
   * Its sync wave: waves apply in order, each Current before the next. A Namespace or CRD of the revision
   * comes in the earliest wave of the objects that need it.
   */
  wave: number;
  /** Set for a hook: run at its phase, never part of the inventory. */
  readonly hook?: HookSpec;
  live?: KubeObject | undefined;
  dryRun?: KubeObject;
  recreate?: boolean;
  knownUnchanged?: boolean;
}

/** The objects as the engine applies them: namespaces defaulted, ownership labels added. */
export async function prepareObjects(
  objects: readonly KubeObject[],
  options: PrepareOptions,
): Promise<KubeObject[]> {
  const { planned, rejections } = await plan(objects, options);
  if (rejections.length > 0) throw new RevisionRejected(rejections);
  return planned.map((p) => p.desired);
}

/** A revision planned: its objects and hooks, the rejections, and the hooks of kinds Ferry does not run. */
export interface Plan {
  readonly planned: Planned[];
  readonly rejections: ObjectResult[];
  readonly skipped: ObjectResult[];
}

/**
 * Defaults namespaces, adds ownership labels, reads the ordering annotations, and rejects kinds that neither
 * the cluster nor the revision define.
 */
export async function plan(objects: readonly KubeObject[], options: PrepareOptions): Promise<Plan> {
  const definedKinds = new Map<string, boolean>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const spec = (o.spec ?? {}) as { group?: string; scope?: string; names?: { kind?: string } };
    definedKinds.set(`${spec.group}/${spec.names?.kind}`, spec.scope === 'Namespaced');
  }
  const rejections: ObjectResult[] = [];
  const skipped: ObjectResult[] = [];
  const seen = new Set<string>();
  const planned: Planned[] = [];
  // Each API group version's discovery at once, not one round trip after another as the loop below meets them.
  const kinds = new Map(objects.map((o) => [o.apiVersion, o.kind]));
  await Promise.all([...kinds].map(([apiVersion, kind]) => options.cluster.resourceType(apiVersion, kind)));
  for (const source of objects) {
    const served = await options.cluster.resourceType(source.apiVersion, source.kind);
    const namespaced = served?.namespaced ?? definedKinds.get(`${groupOf(source.apiVersion)}/${source.kind}`);
    const ordering = orderingOf(source);
    if (ordering.kind === 'skipped') {
      const namespace =
        source.metadata.namespace ?? (namespaced === false ? undefined : options.defaultNamespace);
      const ref = { ...refOf(source), ...(namespace === undefined ? {} : { namespace }) };
      skipped.push({ ref, action: 'skipped', message: `${describeRef(ref)}: ${ordering.reason}` });
      continue;
    }
    if (ordering.kind === 'invalid') {
      const ref = refOf(source);
      rejections.push({ ref, action: 'failed', message: `${describeRef(ref)}: ${ordering.reason}` });
      continue;
    }
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
    planned.push({
      desired: object,
      object,
      ref,
      key,
      hash: hashObject(object),
      deferred: served === undefined,
      ...(ordering.kind === 'hook'
        ? { wave: ordering.hook.weight, hook: ordering.hook }
        : { wave: ordering.wave }),
    });
  }
  hoistDefinitions(planned);
  return { planned, rejections, skipped };
}

/** Moves each Namespace and CRD of the revision to the earliest wave of the objects in it or of its kind. */
function hoistDefinitions(planned: readonly Planned[]): void {
  const earliest = new Map<string, number>();
  const need = (key: string, wave: number) => earliest.set(key, Math.min(wave, earliest.get(key) ?? wave));
  for (const p of planned) {
    if (p.hook !== undefined) continue;
    if (p.ref.namespace !== undefined) need(`Namespace/${p.ref.namespace}`, p.wave);
    need(`kind/${groupOf(p.ref.apiVersion)}/${p.ref.kind}`, p.wave);
  }
  for (const p of planned) {
    if (p.hook !== undefined) continue;
    const spec = (p.desired.spec ?? {}) as { group?: string; names?: { kind?: string } };
    const key =
      p.ref.kind === 'Namespace'
        ? `Namespace/${p.ref.name}`
        : p.ref.kind === 'CustomResourceDefinition'
          ? `kind/${spec.group}/${spec.names?.kind}`
          : undefined;
    const wave = key === undefined ? undefined : earliest.get(key);
    if (wave !== undefined && wave < p.wave) p.wave = wave;
  }
}
