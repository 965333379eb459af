import pLimit from 'p-limit';
import { classify, errorMessage } from '../errors.ts';
import type { InventoryEntry, ObjectResult } from '../model/inventory.ts';
import type { PartKey } from '../model/part.ts';
import { describeRef, refKey } from '../objects.ts';
import { ownedBy, PRUNE_ANNOTATION } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { ApplyFailed, list } from './errors.ts';
import { byStage } from './order.ts';

export interface PruneOptions {
  readonly cluster: Cluster;
  readonly owner: PartKey;
  readonly allowPersistentVolumeClaims: boolean;
  readonly concurrency?: number;
}

/** The entries of the previous inventory that a revision holding `keep` (ref keys) no longer has. */
export function pruneCandidates(
  previous: readonly InventoryEntry[],
  keep: ReadonlySet<string>,
): InventoryEntry[] {
  return previous.filter((entry) => !keep.has(refKey(entry)));
}

/**
 * Deletes the objects of the previous inventory that the new one lacks, in reverse apply order, but only those
 * that still carry this environment's ownership labels and no `ferry.dev/prune: disabled` annotation.
 */
export async function pruneObjects(
  previous: readonly InventoryEntry[],
  next: readonly InventoryEntry[],
  options: PruneOptions,
): Promise<ObjectResult[]> {
  const candidates = pruneCandidates(previous, new Set(next.map(refKey)));
  const limit = pLimit(options.concurrency ?? 16);
  const results: ObjectResult[] = [];
  let transient = false;
  for (const [, stage] of byStage(candidates, (entry) => entry.kind).reverse()) {
    await Promise.all(
      stage.map((entry) =>
        limit(async () => {
          const { apiVersion, kind, namespace, name } = entry;
          const ref =
            namespace === undefined ? { apiVersion, kind, name } : { apiVersion, kind, namespace, name };
          try {
            const live = await options.cluster.get(ref);
            if (live === undefined) return;
            let retained: string | undefined;
            if (!ownedBy(live, options.owner))
              retained = 'no longer carries this environment’s ownership labels';
            else if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled')
              retained = `annotated ${PRUNE_ANNOTATION}: disabled`;
            else if (kind === 'PersistentVolumeClaim' && !options.allowPersistentVolumeClaims) {
              retained = 'PersistentVolumeClaims are pruned only where the environment allows it';
            }
            if (retained !== undefined) {
              results.push({ ref, action: 'retained', message: `${describeRef(ref)}: ${retained}` });
              return;
            }
            if (await options.cluster.delete(ref)) results.push({ ref, action: 'pruned' });
          } catch (error) {
            transient ||= classify(error) === 'transient';
            results.push({
              ref,
              action: 'failed',
              message: `${describeRef(ref)}: prune failed: ${errorMessage(error)}`,
            });
          }
        }),
      ),
    );
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
