import diff from 'microdiff';
import pLimit from 'p-limit';
import { comparable, differs } from '../apply/diff.ts';
import type { IgnoreRule } from '../config.ts';
import type { InventoryEntry } from '../model/inventory.ts';
import type { PartKey } from '../model/part.ts';
import type { DriftedObject } from '../model/records.ts';
import { describeRef, type KubeObject, refKey, refOf } from '../objects.ts';
import { ownerLabels } from '../ownership.ts';
import type { Cluster } from '../ports.ts';

export interface DriftOptions {
  readonly cluster: Cluster;
  readonly owner: PartKey;
  readonly inventory: readonly InventoryEntry[];
  /** The last applied revision's objects; called only when some object moved since it was applied. */
  readonly desired: () => Promise<readonly KubeObject[]>;
  readonly ignore: readonly IgnoreRule[];
  readonly concurrency?: number;
}

export interface DriftReport {
  readonly drifted: DriftedObject[];
  /** The inventory with the resourceVersions of objects that moved without drifting (status, ignored fields). */
  readonly settled: InventoryEntry[];
  /** Whether `settled` differs from the inventory given. */
  readonly moved: boolean;
  /** Server-side dry-runs made: the check's cost beyond its list calls. */
  readonly dryRuns: number;
}

/**
 * Compares the live objects with the last applied revision, cheaply: a few list calls (per kind and namespace,
 * by ownership label) find missing objects and those whose resourceVersion moved since the apply recorded it;
 * only those are dry-run, and the dry-run compared with the live object by the deploy engine's own differ.
 */
export async function detectDrift(options: DriftOptions): Promise<DriftReport> {
  const { cluster, inventory } = options;
  const limit = pLimit(options.concurrency ?? 32);
  const groups = Map.groupBy(inventory, (e) => `${e.apiVersion}|${e.kind}|${e.namespace ?? ''}`);
  const labels = ownerLabels(options.owner);
  const live = new Map<string, KubeObject>();
  await Promise.all(
    [...groups.values()].map((entries) =>
      limit(async () => {
        const [{ apiVersion, kind, namespace }] = entries as [InventoryEntry];
        for (const object of await cluster.list(apiVersion, kind, namespace, labels)) {
          live.set(
            refKey({
              apiVersion,
              kind,
              ...(namespace === undefined ? {} : { namespace }),
              name: object.metadata.name,
            }),
            object,
          );
        }
      }),
    ),
  );

  const drifted: DriftedObject[] = [];
  const moved = inventory.filter((entry) => {
    const object = live.get(refKey(entry));
    if (object === undefined) drifted.push({ object: describeRef(entry), reason: 'missing' });
    return object !== undefined && object.metadata.resourceVersion !== entry.resourceVersion;
  });
  const settledVersions = new Map<string, string | undefined>();
  if (moved.length > 0) {
    const desired = new Map((await options.desired()).map((object) => [refKey(refOf(object)), object]));
    await Promise.all(
      moved.map((entry) =>
        limit(async () => {
          const key = refKey(entry);
          const want = desired.get(key);
          const object = live.get(key);
          if (want === undefined || object === undefined) return;
          const dryRun = await cluster.apply(want, { dryRun: true });
          if (differs(dryRun, object, options.ignore)) {
            drifted.push({
              object: describeRef(entry),
              reason: 'modified',
              changes: changesOf(object, dryRun, options.ignore),
            });
          } else {
            settledVersions.set(key, object.metadata.resourceVersion);
          }
        }),
      ),
    );
  }
  const settled = inventory.map((entry) => {
    const resourceVersion = settledVersions.get(refKey(entry));
    return resourceVersion === undefined ? entry : { ...entry, resourceVersion };
  });
  return { drifted, settled, moved: settledVersions.size > 0, dryRuns: moved.length };
}

const MASKED = '(masked)';

/** The fields that differ, as JSON pointers; a Secret's values are never shown. Plans show the same. */
export function changesOf(live: KubeObject, desired: KubeObject, ignore: readonly IgnoreRule[]) {
  const secret = live.kind === 'Secret';
  return diff(comparable(live, ignore), comparable(desired, ignore)).map((change) => {
    const path = `/${change.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
    const hidden = secret && (change.path[0] === 'data' || change.path[0] === 'stringData');
    const value = (v: unknown) => (hidden && v !== undefined ? MASKED : v);
    return {
      path,
      live: value(change.type === 'CREATE' ? undefined : change.oldValue),
      desired: value(change.type === 'REMOVE' ? undefined : change.value),
    };
  });
}
