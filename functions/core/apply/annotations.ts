// What a rendered object's annotations say about when it is applied: its sync wave, or that it is a hook of a
// phase of the deployment. Ferry's own annotations come first; Argo CD's and Helm's are read as aliases, so
// manifests written for either deploy the same way.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../objects.ts';

export const WAVE_ANNOTATION = 'ferry.dev/wave';
export const HOOK_ANNOTATION = 'ferry.dev/hook';
export const HOOK_DELETE_POLICY_ANNOTATION = 'ferry.dev/hook-delete-policy';

const ARGO_WAVE = 'argocd.argoproj.io/sync-wave';
const ARGO_HOOK = 'argocd.argoproj.io/hook';
const ARGO_DELETE_POLICY = 'argocd.argoproj.io/hook-delete-policy';
const HELM_HOOK = 'helm.sh/hook';
const HELM_WEIGHT = 'helm.sh/hook-weight';
const HELM_DELETE_POLICY = 'helm.sh/hook-delete-policy';

/** The points of a deployment a hook runs at, in the order they can come. */
export const HOOK_PHASES = ['pre-sync', 'post-sync', 'sync-fail'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

/**
 * When a hook is deleted: before it is created again (it keeps its name), once it succeeded, once it failed.
 * Without `before-create`, each deployment creates it under a name of its own.
 */
export const DELETE_POLICIES = ['before-create', 'on-success', 'on-failure'] as const;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];

export interface HookSpec {
  readonly phase: HookPhase;
  /** The order within the phase: hooks of one weight run together, lower weights first. */
  readonly weight: number;
  readonly deletePolicies: ReadonlySet<DeletePolicy>;
  /** A Helm hook of install events only, or of upgrade events only: run at a part's first deployment, or not. */
  readonly only?: 'install' | 'upgrade';
}

/** How an object takes part in a deployment. */
export type Ordering =
  | { readonly kind: 'object'; readonly wave: number }
  | { readonly kind: 'hook'; readonly hook: HookSpec }
  /** A hook of a kind Ferry cannot honour (Helm's pre-delete or test, Argo CD's Skip): not applied. */
  | { readonly kind: 'skipped'; readonly reason: string }
  /** Ferry's own annotations with a value they cannot have: the revision is rejected. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** Argo CD's hook types and Helm's hook events, by the phase they map to (null: not honoured). */
const ARGO_PHASES: Readonly<Record<string, HookPhase | null>> = {
  PreSync: 'pre-sync',
  PostSync: 'post-sync',
  SyncFail: 'sync-fail',
  Sync: null,
  Skip: null,
  PreDelete: null,
  PostDelete: null,
};
const HELM_PHASES: Readonly<Record<string, HookPhase | null>> = {
  'pre-install': 'pre-sync',
  'pre-upgrade': 'pre-sync',
  'post-install': 'post-sync',
  'post-upgrade': 'post-sync',
};
const ARGO_POLICIES: Readonly<Record<string, DeletePolicy>> = {
  BeforeHookCreation: 'before-create',
  HookSucceeded: 'on-success',
  HookFailed: 'on-failure',
};
const HELM_POLICIES: Readonly<Record<string, DeletePolicy>> = {
  'before-hook-creation': 'before-create',
  'hook-succeeded': 'on-success',
  'hook-failed': 'on-failure',
};

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const INTEGER = /^[+-]?\d{1,15}$/;

/** The object's wave (`ferry.dev/wave`, else Argo CD's `sync-wave`; 0 without either), or the reason it is invalid. */
function waveOf(annotations: Readonly<Record<string, string>>): number | string {
  const [key, value] =
    annotations[WAVE_ANNOTATION] !== undefined
      ? [WAVE_ANNOTATION, annotations[WAVE_ANNOTATION]]
      : [ARGO_WAVE, annotations[ARGO_WAVE]];
  if (value === undefined) return 0;
  return INTEGER.test(value.trim()) ? Number.parseInt(value, 10) : `${key}: "${value}" is not an integer`;
}

/** The wave of a live or rendered object; an unreadable one counts as wave 0. */
export function waveOfObject(object: KubeObject): number {
  const wave = waveOf(object.metadata.annotations ?? {});
  return typeof wave === 'number' ? wave : 0;
}

/** The phase an object's hook annotation names: Ferry's, else Argo CD's, else Helm's. */
function phaseOf(
  annotations: Readonly<Record<string, string>>,
):
  | { phase: HookPhase; helm: boolean; only?: 'install' | 'upgrade' }
  | { skipped: string }
  | { invalid: string }
  | undefined {
  const ferry = annotations[HOOK_ANNOTATION];
  if (ferry !== undefined) {
    const phase = HOOK_PHASES.find((p) => p === ferry.trim());
    return phase === undefined
      ? { invalid: `${HOOK_ANNOTATION}: "${ferry}" is not one of ${HOOK_PHASES.join(', ')}` }
      : { phase, helm: false };
  }
  for (const [key, phases, helm] of [
    [ARGO_HOOK, ARGO_PHASES, false],
    [HELM_HOOK, HELM_PHASES, true],
  ] as const) {
    const value = annotations[key];
    if (value === undefined) continue;
    const items = list(value);
    const mapped = items.map((item) => phases[item] ?? null);
    // A hook of several phases runs at the first one Ferry honours.
    const phase = HOOK_PHASES.find((p) => mapped.includes(p));
    if (phase !== undefined) {
      const events = new Set(
        items.filter((item) => phases[item] === phase).map((item) => item.split('-')[1]),
      );
      const only = helm && events.size === 1 ? ([...events][0] as 'install' | 'upgrade') : undefined;
      return only === undefined ? { phase, helm } : { phase, helm, only };
    }
    return { skipped: `${key}: ${value}: Ferry runs no such hook; the object is not applied` };
  }
  return undefined;
}

/** The delete policies of a hook: Ferry's annotation, else Argo CD's, else Helm's; `before-create` by default. */
function deletePoliciesOf(annotations: Readonly<Record<string, string>>): Set<DeletePolicy> | string {
  const ferry = annotations[HOOK_DELETE_POLICY_ANNOTATION];
  if (ferry !== undefined) {
    const policies = list(ferry);
    const unknown = policies.find((p) => !DELETE_POLICIES.some((known) => known === p));
    if (unknown !== undefined)
      return `${HOOK_DELETE_POLICY_ANNOTATION}: "${unknown}" is not one of ${DELETE_POLICIES.join(', ')}`;
    return new Set(policies as DeletePolicy[]);
  }
  for (const [key, policies] of [
    [ARGO_DELETE_POLICY, ARGO_POLICIES],
    [HELM_DELETE_POLICY, HELM_POLICIES],
  ] as const) {
    const value = annotations[key];
    if (value === undefined) continue;
    return new Set(list(value).flatMap((item) => policies[item] ?? []));
  }
  return new Set(['before-create']);
}

/** How an object takes part in a deployment, from its annotations. */
export function orderingOf(object: KubeObject): Ordering {
  const annotations = object.metadata.annotations ?? {};
  const wave = waveOf(annotations);
  if (typeof wave === 'string') return { kind: 'invalid', reason: wave };
  const phase = phaseOf(annotations);
  if (phase === undefined) return { kind: 'object', wave };
  if ('invalid' in phase) return { kind: 'invalid', reason: phase.invalid };
  if ('skipped' in phase) return { kind: 'skipped', reason: phase.skipped };
  const deletePolicies = deletePoliciesOf(annotations);
  if (typeof deletePolicies === 'string') return { kind: 'invalid', reason: deletePolicies };
  // Helm's hooks are ordered by their weight (one that is not a number counts as 0, as in Helm), others by wave.
  const helmWeight = phase.helm ? annotations[HELM_WEIGHT]?.trim() : undefined;
  const weight =
    helmWeight === undefined ? wave : INTEGER.test(helmWeight) ? Number.parseInt(helmWeight, 10) : 0;
  const only = 'only' in phase ? { only: phase.only } : {};
  return { kind: 'hook', hook: { phase: phase.phase, weight, deletePolicies, ...only } };
}

/** The longest name every kind takes (a Job's name becomes a label value). */
const MAX_NAME = 63;

/** A name of the hook for one deployment: its own name and a suffix from the deployment's id. */
export function perDeploymentName(name: string, runId: string): string {
  const suffix = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  const base = name.slice(0, MAX_NAME - suffix.length - 1).replace(/[-.]+$/, '');
  return `${base}-${suffix}`;
}
