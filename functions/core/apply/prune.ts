import pLimit from 'p-limit';
import { describeRef, refKey } from '../objects.ts';
import { type Owner, ownedBy, PRUNE_ANNOTATION } from '../ownership.ts';
import type { Cluster } from '../ports.ts';
import { errorMessage } from './errors.ts';
import type { InventoryEntry, ObjectResult } from './inventory.ts';
import { byStage } from './order.ts';

export interface PruneOptions {
  readonly cluster: Cluster;
  readonly owner: Owner;
  readonly allowPersistentVolumeClaims: boolean;
  readonly concurrency?: number;
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
  const keep = new Set(next.map(refKey));
  const candidates = previous.filter((entry) => !keep.has(refKey(entry)));
  const limit = pLimit(options.concurrency ?? 16);
  const results: ObjectResult[] = [];
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
  return results;
}
