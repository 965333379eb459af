// A plan of one environment part: what deploying a commit would do to its live cluster, found by the deploy's
// own render, preparation, dry-runs, differ, prune verdicts and deletion budget, with nothing changed.
import { short } from '../model/commit.ts';
import type { PartKey } from '../model/part.ts';
import type { ObjectRef } from '../objects.ts';

/** A field that would change: its JSON pointer, and its live and new values (a Secret's values masked). */
export interface FieldChange {
  readonly path: string;
  readonly live: unknown;
  readonly desired: unknown;
}

/** An object the deployment would send. */
export interface ObjectChange {
  readonly ref: ObjectRef;
  readonly action: 'create' | 'change' | 'recreate';
  /** For a change: the fields that differ from the live object. */
  readonly changes: readonly FieldChange[];
  /** What else is worth knowing (adopted, validated later, re-created because of an immutable field). */
  readonly note?: string;
}

/**
 * An object of the last applied revision that this one lacks: pruned (it carries the environment's labels and
 * nothing keeps it), retained (with why), gone already, or left in place because the part does not prune.
 */
export interface PruneCandidate {
  readonly ref: ObjectRef;
  readonly verdict: 'prune' | 'retained' | 'gone' | 'left';
  readonly reason: string;
}

/** A refusal: of an object (by the API server, or as the deploy's preparation refuses it), or of the revision. */
export interface Refusal {
  readonly ref?: ObjectRef;
  readonly reason: string;
}

export interface PartPlan {
  readonly key: PartKey;
  /** The commit planned: the pull request's head when the plan ran. */
  readonly commit: string;
  readonly changes: readonly ObjectChange[];
  readonly unchanged: number;
  /** The revision's hooks that a deployment would run, by phase. */
  readonly hooks: readonly { readonly ref: ObjectRef; readonly phase: string }[];
  readonly prune: readonly PruneCandidate[];
  /** The deletion budget's verdict: the most objects one deployment may prune, if any, and a refusal. */
  readonly budget: {
    readonly limit: number | undefined;
    readonly candidates: number;
    readonly refusal?: string;
  };
  readonly refusals: readonly Refusal[];
  /** Said of the part as a whole (autoSync off, prune off, hooks skipped). */
  readonly notes: readonly string[];
  /** Set when no plan could be made: the set-up is wrong (an unknown cluster, a refused token). */
  readonly failure?: string;
}

/** What a plan amounts to: nothing would change, something would, or a deployment would be refused. */
export type PlanVerdict = 'unchanged' | 'changes' | 'refused';

export function verdictOf(plan: PartPlan): PlanVerdict {
  if (plan.failure !== undefined || plan.refusals.length > 0 || plan.budget.refusal !== undefined)
    return 'refused';
  if (plan.changes.length > 0 || plan.prune.some((p) => p.verdict === 'prune')) return 'changes';
  return 'unchanged';
}

const count = (n: number, what: string) => (n === 0 ? '' : `${n} ${what}`);

/** `1 to create, 2 to change, 1 to prune, 1 refused`: the plan in one line. */
export function summaryOf(plan: PartPlan): string {
  if (plan.failure !== undefined) return `could not plan: ${plan.failure}`;
  const of = (action: ObjectChange['action']) => plan.changes.filter((c) => c.action === action).length;
  const parts = [
    count(of('create'), 'to create'),
    count(of('change'), 'to change'),
    count(of('recreate'), 'to re-create'),
    count(plan.prune.filter((p) => p.verdict === 'prune').length, 'to prune'),
    count(plan.prune.filter((p) => p.verdict === 'retained').length, 'retained'),
    count(plan.refusals.length, 'refused'),
    plan.budget.refusal === undefined ? '' : 'over the deletion budget',
  ].filter((part) => part !== '');
  return parts.length === 0 ? 'no changes' : parts.join(', ');
}

/** The plan's headline: the part, the commit and the summary. */
export function headlineOf(plan: PartPlan): string {
  const { app, environment, part } = plan.key;
  const name = part === 'app' ? `${app}/${environment}` : `${app}/${environment} (config)`;
  return `${name} at ${short(plan.commit).slice(0, 7)}: ${summaryOf(plan)}`;
}
