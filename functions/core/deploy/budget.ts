import type { EnvironmentConfig } from '../config.ts';
import { Failure } from '../errors.ts';
import { short } from '../model/commit.ts';
import type { InventoryEntry } from '../model/inventory.ts';
import type { ConfiguredPart } from '../model/part.ts';
import { MAX_REVISION_OBJECTS } from '../model/records.ts';
import { describeRef, type KubeObject } from '../objects.ts';

/**
 * Refuses a revision that renders nothing (it would prune everything) unless the environment allows it, and one
 * larger than a part's inventory can hold, before anything changes.
 */
export function checkRevisionSize(
  objects: readonly KubeObject[],
  { environment, settings }: ConfiguredPart,
  commit: string,
): void {
  if (objects.length === 0 && !environment.allowEmpty) {
    throw new Failure(
      'rejected',
      `${settings.path} rendered no objects at ${short(commit)}; refusing to apply an empty revision, which would prune everything (set allowEmpty to allow it)`,
    );
  }
  if (objects.length > MAX_REVISION_OBJECTS) {
    throw new Failure(
      'rejected',
      `${settings.path} rendered ${objects.length} objects at ${short(commit)}, more than the ${MAX_REVISION_OBJECTS} one part can hold; split it into several apps`,
    );
  }
}

/** The most objects a deployment of this environment may prune out of `previous`, or undefined: no cap. */
export function deletionLimit(environment: EnvironmentConfig, previous: number): number | undefined {
  const budget = environment.deletionBudget;
  if (budget === undefined) return undefined;
  if (typeof budget === 'number') return budget;
  return Math.floor((previous * Number.parseInt(budget, 10)) / 100);
}

/**
 * Refuses, before anything changes, a deployment that would prune more objects than the environment's
 * deletion budget allows (the mass deletions Argo CD users met when a render went wrong). A rejection: it
 * stands until a new commit or a manual deploy that overrides the budget.
 */
export function checkDeletionBudget(
  environment: EnvironmentConfig,
  previous: readonly InventoryEntry[],
  candidates: readonly InventoryEntry[],
): void {
  const limit = deletionLimit(environment, previous.length);
  if (limit === undefined || candidates.length <= limit) return;
  const listed = candidates.map((entry) => `- ${describeRef(entry)}`).join('\n');
  throw new Failure(
    'rejected',
    `would prune ${candidates.length} object(s), over the deletion budget of ${limit} (deletionBudget ${environment.deletionBudget}); nothing applied or pruned. Deploy by hand with the budget overridden if this is intended:\n${listed}`,
  );
}
