import type { IgnoreRule } from '../config.ts';
import { canonicalJson, groupOf, type KubeObject } from '../objects.ts';
import { FIELD_MANAGER } from '../ownership.ts';

/** Fields the API server writes itself: never a difference between what Git says and what runs. */
const SERVER_MANAGED_METADATA = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
];

/** The object as compared: server-managed metadata, status and ignored fields removed. */
export function comparable(object: KubeObject, ignore: readonly IgnoreRule[] = []): KubeObject {
  const copy = structuredClone(object);
  for (const field of SERVER_MANAGED_METADATA) delete copy.metadata[field];
  delete copy.status;
  for (const rule of ignore) {
    if (!ruleMatches(rule, object)) continue;
    for (const pointer of rule.jsonPointers) removePointer(copy, pointer);
  }
  return copy;
}

function ruleMatches(rule: IgnoreRule, object: KubeObject): boolean {
  return (
    rule.kind === object.kind &&
    (rule.group === undefined || rule.group === groupOf(object.apiVersion)) &&
    (rule.name === undefined || rule.name === object.metadata.name) &&
    (rule.namespace === undefined || rule.namespace === object.metadata.namespace)
  );
}

function removePointer(target: unknown, pointer: string): void {
  const keys = pointer
    .slice(1)
    .split('/')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = keys.pop();
  let node = target;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[key];
  }
  if (last !== undefined && node !== null && typeof node === 'object')
    delete (node as Record<string, unknown>)[last];
}

/** True when Ferry's field manager owns fields of the live object. */
export function managedByFerry(object: KubeObject): boolean {
  return object.metadata.managedFields?.some((entry) => entry.manager === FIELD_MANAGER) ?? false;
}

/**
 * Whether applying would change the live object: the server-side dry-run result differs from it beyond
 * server-managed fields, or Ferry does not own its fields yet. Shared by deploy and drift detection.
 */
export function differs(
  dryRun: KubeObject,
  live: KubeObject | undefined,
  ignore: readonly IgnoreRule[] = [],
): boolean {
  if (live === undefined || !managedByFerry(live)) return true;
  return canonicalJson(comparable(dryRun, ignore)) !== canonicalJson(comparable(live, ignore));
}
