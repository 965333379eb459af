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

/**
 * Items grouped by wave, lowest first, each wave's items in stage order: Argo CD's sync order (wave, then
 * kind). Reversed, the order objects are pruned in.
 */
export function byWave<T>(
  items: readonly T[],
  waveOf: (item: T) => number,
  kindOf: (item: T) => string,
): { wave: number; stages: [Stage, T[]][] }[] {
  const waves = Map.groupBy(items, waveOf);
  return [...waves.keys()]
    .sort((a, b) => a - b)
    .map((wave) => ({ wave, stages: byStage(waves.get(wave) ?? [], kindOf) }));
}
