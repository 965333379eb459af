import type { KubeObject } from '../objects.ts';

/**
 * Flux's apply order: definitions that other objects need first (and waited on until established), then
 * `*Class` kinds, then everything else, admission webhooks last so they cannot block the objects before them.
 */
export const STAGES = ['definitions', 'classes', 'resources', 'webhooks'] as const;
export type Stage = (typeof STAGES)[number];

const DEFINITION_KINDS = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole']);
const WEBHOOK_KINDS = new Set([
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
]);

export function stageOf(object: Pick<KubeObject, 'kind'>): Stage {
  if (DEFINITION_KINDS.has(object.kind)) return 'definitions';
  if (object.kind.endsWith('Class')) return 'classes';
  if (WEBHOOK_KINDS.has(object.kind)) return 'webhooks';
  return 'resources';
}

/** Items grouped by the stage of their kind, in apply order. */
export function byStage<T>(items: readonly T[], kindOf: (item: T) => string): [Stage, T[]][] {
  return STAGES.map((stage) => [stage, items.filter((item) => stageOf({ kind: kindOf(item) }) === stage)]);
}
