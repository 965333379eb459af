import { createHash } from 'node:crypto';

/** A Kubernetes object as rendered from Git or read from the API: kept as plain JSON, never through models. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  managedFields?: { manager?: string; operation?: string }[];
  [field: string]: unknown;
}

/** Identifies an object; `apiVersion` says where to reach it, group and kind (not version) what it is. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export function refOf(object: KubeObject): ObjectRef {
  const { namespace } = object.metadata;
  return namespace === undefined
    ? { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name }
    : { apiVersion: object.apiVersion, kind: object.kind, namespace, name: object.metadata.name };
}

/** A stable identity across API versions: `group/Kind/namespace/name`. */
export function refKey(ref: ObjectRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** For people: `Deployment shop/web`. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** JSON with object keys sorted, so that equal objects serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function hashObject(object: KubeObject): string {
  return createHash('sha256').update(canonicalJson(object)).digest('hex').slice(0, 32);
}
