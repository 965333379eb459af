import type { ObjectRef } from '../objects.ts';

/** What an object's apply did. */
export type Action = 'created' | 'configured' | 'unchanged' | 'recreated' | 'pruned' | 'retained' | 'failed';

export interface ObjectResult {
  readonly ref: ObjectRef;
  readonly action: Action;
  readonly message?: string;
}

/**
 * An object of the last applied revision: its desired state's hash and the resourceVersion it had after
 * the apply. When both still match, the object is known unchanged without asking the API server.
 */
export interface InventoryEntry extends ObjectRef {
  readonly hash: string;
  readonly resourceVersion?: string;
}
