import type { PartKey } from './model/part.ts';
import type { KubeObject } from './objects.ts';

/** The server-side apply field manager that owns what Ferry applies. */
export const FIELD_MANAGER = 'ferry';

/** Labels Ferry puts on every object it applies; pruning deletes only objects that still carry them. */
export const APP_LABEL = 'ferry.dev/app';
export const ENVIRONMENT_LABEL = 'ferry.dev/environment';
export const PART_LABEL = 'ferry.dev/part';

/** `ferry.dev/prune: disabled` on a live object keeps it when Git no longer has it. */
export const PRUNE_ANNOTATION = 'ferry.dev/prune';

/** The labels that mark an object as applied by a part. */
export function ownerLabels({ app, environment, part }: PartKey): Record<string, string> {
  return { [APP_LABEL]: app, [ENVIRONMENT_LABEL]: environment, [PART_LABEL]: part };
}

export function ownedBy(object: KubeObject, owner: PartKey): boolean {
  const labels = object.metadata.labels ?? {};
  return Object.entries(ownerLabels(owner)).every(([key, value]) => labels[key] === value);
}
