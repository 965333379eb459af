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

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => value !== null && typeof value === 'object';

/** The keys of a JSON pointer, unescaped, and the node holding its last key (undefined when absent). */
function locate(target: unknown, pointer: string): { parent: Node | undefined; key: string } {
  const keys = pointer
    .slice(1)
    .split('/')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const key = keys.pop() ?? '';
  let node = target;
  for (const step of keys) node = isNode(node) ? node[step] : undefined;
  return { parent: isNode(node) ? node : undefined, key };
}

function removePointer(target: unknown, pointer: string): void {
  const { parent, key } = locate(target, pointer);
  if (parent !== undefined) delete parent[key];
}

/**
 * The object to apply with the live values kept at ignored pointers, so that an apply never undoes what an HPA
 * or a mutating webhook set there. Where the live object has no value, or the desired object has no place for
 * it, Git's value (or its absence) stands.
 */
export function keepIgnoredLiveValues(
  desired: KubeObject,
  live: KubeObject | undefined,
  ignore: readonly IgnoreRule[],
): KubeObject {
  const rules = ignore.filter((rule) => ruleMatches(rule, desired));
  if (live === undefined || rules.length === 0) return desired;
  const copy = structuredClone(desired);
  for (const pointer of rules.flatMap((rule) => rule.jsonPointers)) {
    const from = locate(live, pointer);
    const to = locate(copy, pointer);
    if (from.parent !== undefined && from.key in from.parent && to.parent !== undefined)
      to.parent[to.key] = structuredClone(from.parent[from.key]);
  }
  return copy;
}

/** Whether any ignore rule concerns the object. */
export const hasIgnoredFields = (object: KubeObject, ignore: readonly IgnoreRule[]): boolean =>
  ignore.some((rule) => ruleMatches(rule, object));

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
