import pLimit from 'p-limit';
import { classify, errorMessage } from '../errors.ts';
import type { InventoryEntry, ObjectResult } from '../model/inventory.ts';
import type { PartKey } from '../model/part.ts';
import { describeRef, type KubeObject, type ObjectRef, refKey } from '../objects.ts';
import { ownedBy, PRUNE_ANNOTATION } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { waveOfObject } from './annotations.ts';
import { ApplyFailed, list } from './errors.ts';
import { byWave } from './order.ts';
import { waitUntilGone } from './wait.ts';

export interface PruneOptions {
  readonly cluster: Cluster;
  readonly owner: PartKey;
  readonly allowPersistentVolumeClaims: boolean;
  /** Ref keys never pruned: the revision's hooks, which an older inventory may list as app objects. */
  readonly spare?: ReadonlySet<string>;
  /** How long a pruned wave may take to go before the wave before it is pruned (default 60 s). */
  readonly goneTimeoutMs?: number;
  readonly concurrency?: number;
}

/** The entries of the previous inventory that a revision holding `keep` (ref keys) no longer has. */
export function pruneCandidates(
  previous: readonly InventoryEntry[],
  keep: ReadonlySet<string>,
): InventoryEntry[] {
  return previous.filter((entry) => !keep.has(refKey(entry)));
}

/** A candidate read back: to delete (the live object), retained (why), or already gone. */
export type Verdict = { readonly live: KubeObject } | { readonly result: ObjectResult } | undefined;

/**
 * Deletes the objects of the previous inventory that the new one lacks (nor holds as a hook, `spare`), but only
 * those that still carry this environment's ownership labels and no `ferry.dev/prune: disabled` annotation:
 * in reverse order, the last wave first (each wave gone before the next, within `goneTimeoutMs`), each wave's
 * stages in reverse.
 */
export async function pruneObjects(
  previous: readonly InventoryEntry[],
  next: readonly InventoryEntry[],
  options: PruneOptions,
): Promise<ObjectResult[]> {
  const keep = new Set([...next.map(refKey), ...(options.spare ?? [])]);
  const candidates = pruneCandidates(previous, keep);
  const limit = pLimit(options.concurrency ?? 16);
  const results: ObjectResult[] = [];
  let transient = false;
  const failed = (ref: ObjectRef, error: unknown): ObjectResult => {
    transient ||= classify(error) === 'transient';
    return { ref, action: 'failed', message: `${describeRef(ref)}: prune failed: ${errorMessage(error)}` };
  };
  const read = await Promise.all(
    candidates.map((entry) =>
      limit(async (): Promise<[ObjectRef, Verdict]> => {
        const ref = refOfEntry(entry);
        try {
          return [ref, pruneVerdict(ref, await options.cluster.get(ref), options)];
        } catch (error) {
          return [ref, { result: failed(ref, error) }];
        }
      }),
    ),
  );
  const doomed: { ref: ObjectRef; live: KubeObject }[] = [];
  for (const [ref, verdict] of read) {
    if (verdict !== undefined && 'result' in verdict) results.push(verdict.result);
    else if (verdict !== undefined) doomed.push({ ref, live: verdict.live });
  }
  const waves = byWave(
    doomed,
    (d) => waveOfObject(d.live),
    (d) => d.ref.kind,
  ).reverse();
  for (const [index, { stages }] of waves.entries()) {
    const deleted: ObjectRef[] = [];
    for (const [, stage] of stages.reverse()) {
      await Promise.all(
        stage.map(({ ref }) =>
          limit(async () => {
            try {
              if (await options.cluster.delete(ref)) {
                results.push({ ref, action: 'pruned' });
                deleted.push(ref);
              }
            } catch (error) {
              results.push(failed(ref, error));
            }
          }),
        ),
      );
    }
    if (index < waves.length - 1)
      await waitUntilGone(options.cluster, deleted, options.goneTimeoutMs ?? 60_000);
  }
  // The retry prunes again: the inventory that lists these objects stays until a deployment is recorded.
  if (transient)
    throw new ApplyFailed(
      'transient',
      `pruning was interrupted:\n${list(results.filter((r) => r.action === 'failed'))}`,
      results,
    );
  return results;
}

export const refOfEntry = ({ apiVersion, kind, namespace, name }: InventoryEntry): ObjectRef =>
  namespace === undefined ? { apiVersion, kind, name } : { apiVersion, kind, namespace, name };

/** Whether a live candidate is deleted or retained; undefined when it is gone already. Plans show the same. */
export function pruneVerdict(
  ref: ObjectRef,
  live: KubeObject | undefined,
  options: Pick<PruneOptions, 'owner' | 'allowPersistentVolumeClaims'>,
): Verdict {
  if (live === undefined) return undefined;
  let retained: string | undefined;
  if (!ownedBy(live, options.owner)) retained = 'no longer carries this environment’s ownership labels';
  else if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled')
    retained = `annotated ${PRUNE_ANNOTATION}: disabled`;
  else if (ref.kind === 'PersistentVolumeClaim' && !options.allowPersistentVolumeClaims)
    retained = 'PersistentVolumeClaims are pruned only where the environment allows it';
  if (retained === undefined) return { live };
  return { result: { ref, action: 'retained', message: `${describeRef(ref)}: ${retained}` } };
}
