// The plan of one part at one commit: rendered exactly as a deploy renders it, prepared and dry-run against the
// part's live cluster by the deploy engine's own validation, compared with what runs by its differ and ignore
// rules, its prune candidates judged as pruning judges them and counted against the deletion budget. The
// cluster is reached through a guard that refuses anything but reads and dry-runs: a plan never changes it.
import pLimit from 'p-limit';
import { managedByFerry } from '../apply/diff.ts';
import { type DryRunRevision, dryRunRevision, plannedAction } from '../apply/engine.ts';
import { classOfAll } from '../apply/errors.ts';
import type { Planned } from '../apply/prepare.ts';
import { pruneCandidates, pruneVerdict, refOfEntry } from '../apply/prune.ts';
import { checkDeletionBudget, checkRevisionSize, deletionLimit } from '../deploy/budget.ts';
import { classify, errorMessage, Failure } from '../errors.ts';
import type { InventoryEntry } from '../model/inventory.ts';
import { type ConfiguredPart, clusterOf, type PartKey } from '../model/part.ts';
import { describeRef, type KubeObject, refKey } from '../objects.ts';
import type { Cluster, ClusterConnector, EnvironmentStore, GitRemote } from '../ports.ts';
import { changesOf } from '../reconcile/drift.ts';
import { renderRevision, type SourceDependencies } from '../source/revision.ts';
import type { FieldChange, ObjectChange, PartPlan, PruneCandidate, Refusal } from './model.ts';

export interface PlanDependencies extends SourceDependencies {
  readonly clusters: ClusterConnector;
  /** The part's last applied inventory, which tells what a deployment would prune. */
  readonly store: Pick<EnvironmentStore, 'get'>;
}

/** A cluster that only reads and dry-runs: anything else a plan might ask is refused before it is sent. */
export function dryRunOnly(cluster: Cluster): Cluster {
  const refuse = (what: string) =>
    Promise.reject(
      new Failure('configuration', `a plan never ${what}: refused before it reached the cluster`),
    );
  return {
    resourceType: (apiVersion, kind) => cluster.resourceType(apiVersion, kind),
    refreshResourceTypes: () => cluster.refreshResourceTypes(),
    get: (ref) => cluster.get(ref),
    list: (apiVersion, kind, namespace, labels) => cluster.list(apiVersion, kind, namespace, labels),
    apply: (object, options) => (options.dryRun ? cluster.apply(object, options) : refuse('applies')),
    delete: () => refuse('deletes'),
  };
}

/**
 * Plans a part at `commit`. A revision that does not render, renders nothing or too much is a plan whose
 * revision is refused; transient failures (the cluster or the Git host unreachable) are thrown, so that the job
 * is tried again; a wrong set-up is thrown as a configuration failure.
 */
export async function planPart(
  deps: PlanDependencies,
  key: PartKey,
  found: ConfiguredPart,
  remote: GitRemote,
  commit: string,
): Promise<PartPlan> {
  let objects: KubeObject[];
  try {
    objects = await renderRevision(deps, remote, found, commit);
    checkRevisionSize(objects, found, commit);
  } catch (error) {
    if (classify(error) !== 'rejected') throw error;
    return { ...emptyPlan(key, commit, found), refusals: [{ reason: errorMessage(error) }] };
  }
  const { environment, settings } = found;
  const cluster = dryRunOnly(await deps.clusters.connect(clusterOf(deps.config, environment)));
  const state = await deps.store.get(key);
  const previous = state?.inventory ?? [];
  const dry = await dryRunRevision(objects, {
    cluster,
    owner: key,
    defaultNamespace: environment.namespace,
    previous,
    recreateOnImmutableChange: environment.recreateOnImmutableChange,
    ignore: environment.ignoreDifferences,
    firstDeployment: state?.lastApplied === undefined,
  });
  if (dry.rejections.length > 0 && classOfAll(dry.errors) === 'transient')
    throw new Failure('transient', `the dry-runs were interrupted: ${dry.rejections[0]?.message}`);
  const keep = new Set([...dry.planned.map((p) => p.key), ...dry.rejections.map((r) => refKey(r.ref))]);
  const candidates = pruneCandidates(previous, keep);
  const prune = settings.prune
    ? await judgeCandidates(cluster, key, found, candidates)
    : candidates.map((entry) => left(entry));
  return {
    ...emptyPlan(key, commit, found),
    ...objectsOf(dry, environment.ignoreDifferences),
    prune,
    budget: budgetOf(found, previous, candidates),
    refusals: dry.rejections.map((r) => ({ ref: r.ref, reason: reasonOf(r.message ?? '', r.ref) })),
    notes: notesOf(found, dry),
  };
}

/** A plan of nothing yet: no object, nothing to prune, nothing refused. */
export function emptyPlan(key: PartKey, commit: string, found: ConfiguredPart): PartPlan {
  return {
    key,
    commit,
    changes: [],
    unchanged: 0,
    hooks: [],
    prune: [],
    budget: { limit: undefined, candidates: 0 },
    refusals: [],
    notes: notesOf(found),
  };
}

/** A rejection's message without the object it names (the plan names it beside). */
const reasonOf = (message: string, ref: Refusal['ref']) => {
  const prefix = ref === undefined ? '' : `${describeRef(ref)}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
};

/** What the deployment would send of each object, as the engine decides it after its dry-runs. */
function objectsOf(dry: DryRunRevision, ignore: ConfiguredPart['environment']['ignoreDifferences']) {
  const rejected = new Set(dry.rejections.map((r) => refKey(r.ref)));
  const changes: ObjectChange[] = [];
  const hooks: PartPlan['hooks'][number][] = [];
  let unchanged = 0;
  for (const p of dry.planned) {
    if (rejected.has(p.key)) continue;
    if (p.hook !== undefined) {
      hooks.push({ ref: p.ref, phase: p.hook.phase });
      continue;
    }
    const action = plannedAction(p);
    if (action === 'unchanged') unchanged++;
    else if (action === 'created')
      changes.push({ ref: p.ref, action: 'create', changes: [], ...createNote(p) });
    else if (action === 'recreated')
      changes.push({
        ref: p.ref,
        action: 'recreate',
        changes: [],
        note: 'a field that cannot change differs: deleted and created again (recreateOnImmutableChange)',
      });
    else changes.push(changeOf(p, ignore));
  }
  return { changes, hooks, unchanged };
}

const createNote = (p: Planned) =>
  p.deferred ? { note: 'validated once its namespace or kind, which this revision brings, exists' } : {};

function changeOf(p: Planned, ignore: ConfiguredPart['environment']['ignoreDifferences']): ObjectChange {
  const changes =
    p.live === undefined || p.dryRun === undefined
      ? []
      : masked(p.ref.kind, changesOf(p.live, p.dryRun, ignore));
  const adopted = p.live !== undefined && !managedByFerry(p.live);
  return {
    ref: p.ref,
    action: 'change',
    changes,
    ...(adopted ? { note: 'not applied by Ferry yet: Ferry takes over its fields' } : {}),
  };
}

/** The masked value the differ shows for a Secret's data. */
const MASKED = '(masked)';

/**
 * A Secret's field changes with nothing of its values left: the differ masks `data` and `stringData`; its
 * annotations are masked too (kubectl's last-applied annotation copies the data, and an annotation added
 * whole would show every value in it), and so is its metadata where it changes whole.
 */
export function masked(kind: string, changes: readonly FieldChange[]): FieldChange[] {
  if (kind !== 'Secret') return [...changes];
  const hidden = (path: string) => path === '/metadata' || /^\/metadata\/annotations(\/|$)/.test(path);
  const mask = (value: unknown) => (value === undefined ? undefined : MASKED);
  return changes.map((change) =>
    hidden(change.path)
      ? { path: change.path, live: mask(change.live), desired: mask(change.desired) }
      : change,
  );
}

/** Each candidate read back and judged as pruning judges it. */
async function judgeCandidates(
  cluster: Cluster,
  owner: PartKey,
  found: ConfiguredPart,
  candidates: readonly InventoryEntry[],
): Promise<PruneCandidate[]> {
  const limit = pLimit(16);
  const options = { owner, allowPersistentVolumeClaims: found.environment.prunePersistentVolumeClaims };
  return Promise.all(
    candidates.map((entry) =>
      limit(async (): Promise<PruneCandidate> => {
        const ref = refOfEntry(entry);
        const verdict = pruneVerdict(ref, await cluster.get(ref), options);
        if (verdict === undefined) return { ref, verdict: 'gone', reason: 'already deleted' };
        if ('live' in verdict)
          return { ref, verdict: 'prune', reason: "owned: it carries this environment's labels" };
        return { ref, verdict: 'retained', reason: reasonOf(verdict.result.message ?? '', ref) };
      }),
    ),
  );
}

const left = (entry: InventoryEntry): PruneCandidate => ({
  ref: refOfEntry(entry),
  verdict: 'left',
  reason: 'prune is off: left in the cluster',
});

/** The deletion budget's verdict, by the deploy's own check. */
function budgetOf(
  found: ConfiguredPart,
  previous: readonly InventoryEntry[],
  candidates: readonly InventoryEntry[],
): PartPlan['budget'] {
  const limit = deletionLimit(found.environment, previous.length);
  const budget = { limit, candidates: found.settings.prune ? candidates.length : 0 };
  if (!found.settings.prune) return budget;
  try {
    checkDeletionBudget(found.environment, previous, candidates);
    return budget;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    const [first = error.message] = error.message.split(':\n');
    return { ...budget, refusal: first };
  }
}

function notesOf(found: ConfiguredPart, dry?: DryRunRevision): string[] {
  const notes: string[] = [];
  if (!found.settings.autoSync)
    notes.push('autoSync is off: a merge is reported OutOfSync and deployed by hand');
  for (const skipped of dry?.skipped ?? [])
    notes.push(`not run: ${skipped.message ?? describeRef(skipped.ref)}`);
  return notes;
}
