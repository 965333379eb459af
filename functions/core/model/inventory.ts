import type { ObjectRef } from '../objects.ts';

/**
 * What a deployment did to an object: its apply or prune; for a hook, whether it ran to completion; `skipped`
 * for a hook of a kind Ferry does not run (Helm's pre-delete or test), never applied.
 */
export type Action =
  | 'created'
  | 'configured'
  | 'unchanged'
  | 'recreated'
  | 'pruned'
  | 'retained'
  | 'failed'
  | 'hook-succeeded'
  | 'hook-failed'
  | 'skipped';

/** The actions of objects that a deployment sent to the cluster. */
export const APPLIED_ACTIONS: ReadonlySet<Action> = new Set(['created', 'configured', 'recreated']);

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
