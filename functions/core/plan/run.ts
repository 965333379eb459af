// The plan use case: a plan job in, the part's section of the pull request's comment and a commit status
// (`ferry/plan/<app>/<environment>`) on its head out, in named steps: follow the pull request's head (a newer
// commit supersedes the one the job named), read the files it changes, plan the part if they concern it, then
// write the comment and the status. Nothing here changes a cluster.
import type { Config, RepositoryConfig } from '../config.ts';
import { classify, errorMessage } from '../errors.ts';
import type { FeedbackEvents } from '../feedback/feedback.ts';
import { ZERO_ID } from '../intake/normalise.ts';
import { concerns, concernsEveryChange } from '../intake/triggers.ts';
import { short } from '../model/commit.ts';
import { oneLine } from '../model/feedback.ts';
import type { PlanJob } from '../model/job.ts';
import {
  type ConfiguredPart,
  configuredParts,
  findPart,
  keyOf,
  type PartKey,
  partId,
} from '../model/part.ts';
import type { Provider } from '../model/provider.ts';
import { RefsCache, remoteOf } from '../source/revision.ts';
import { assembleComment, commentMarker, parseSections, renderSection, withSection } from './comment.ts';
import { type PartPlan, type PlanVerdict, summaryOf, verdictOf } from './model.ts';
import { emptyPlan, type PlanDependencies, planPart } from './plan.ts';
import type { PullRequestHost } from './ports.ts';

export interface PlanJobDependencies extends PlanDependencies {
  /** The pull request API of each host kind; a host without one gets no comment, and every path counts. */
  readonly hosts: Partial<Readonly<Record<Provider, PullRequestHost>>>;
  /** Commit statuses; none, and nothing is posted. */
  readonly feedback?: FeedbackEvents;
}

/** What became of the pull request's comment. */
export type CommentOutcome = 'created' | 'updated' | 'unchanged' | 'none' | `not written: ${string}`;

export interface PlanReport {
  readonly key: PartKey;
  readonly pullRequest: number;
  /** Planned; not planned as the pull request's files do not concern the part; or nothing to plan. */
  readonly outcome: 'planned' | 'not-concerned' | 'skipped';
  /** The head planned (or, when skipped, the commit the job named). */
  readonly commit: string;
  readonly verdict?: PlanVerdict;
  readonly summary: string;
  readonly comment: CommentOutcome;
  readonly plan?: PartPlan;
}

/** What each runtime logs of a plan job that ended, beside its own name of the job. */
export function planLogFields(report: PlanReport): Record<string, unknown> {
  return {
    part: partId(report.key),
    pullRequest: report.pullRequest,
    commit: report.commit,
    outcome: report.outcome,
    detail: report.summary,
    comment: report.comment,
  };
}

/** A plan job's context once its part and repository are known. */
interface Context {
  readonly job: PlanJob;
  readonly key: PartKey;
  readonly found: ConfiguredPart;
  readonly repository: RepositoryConfig;
  readonly token: string | undefined;
  readonly host: PullRequestHost | undefined;
}

/**
 * Runs a plan job. Transient failures (the cluster, the Git host or its API unreachable) are thrown, so that
 * the queue tries the job again; a set-up that is wrong is reported in the comment and the status.
 */
export async function runPlanJob(
  job: PlanJob,
  deps: PlanJobDependencies,
  options: { readonly refs?: RefsCache } = {},
): Promise<PlanReport> {
  const key = keyOf(job);
  const { number } = job.trigger.pullRequest;
  const found = findPart(deps.config, key);
  const repository = deps.config.repositories.find((r) => r.name === found?.app.repository);
  const skipped = (summary: string): PlanReport => ({
    key,
    pullRequest: number,
    outcome: 'skipped',
    commit: job.commit,
    summary,
    comment: 'none',
  });
  if (found === undefined || repository === undefined)
    return skipped(`no part ${partId(key)} in the configuration`);
  const remote = await remoteOf(deps.config, deps.secrets, found.app);
  const refs = await (options.refs ?? new RefsCache()).list(deps.git, remote);
  const head = refs.get(job.ref) ?? (job.commit === ZERO_ID ? undefined : job.commit);
  if (head === undefined) return skipped(`${job.ref} is gone: the pull request has no head to plan`);
  const tokenSecret = repository.statusTokenSecret ?? repository.tokenSecret;
  const context: Context = {
    job,
    key,
    found,
    repository,
    token: tokenSecret === undefined ? undefined : await deps.secrets.getSecret(tokenSecret),
    host: deps.hosts[repository.provider],
  };
  // The commit the job named was marked pending at intake where every change concerns the part: answered.
  if (head !== job.commit && job.commit !== ZERO_ID && concernsEveryChange(found.environment, key.part))
    status(deps, context, job.commit, 'superseded', `superseded by ${short(head).slice(0, 7)}`);
  return planHead(deps, context, head, remote);
}

async function planHead(
  deps: PlanJobDependencies,
  context: Context,
  head: string,
  remote: Awaited<ReturnType<typeof remoteOf>>,
): Promise<PlanReport> {
  const { key, found, job } = context;
  const report = { key, pullRequest: job.trigger.pullRequest.number, commit: head };
  const changed = await changedFiles(context);
  const change = { changedPaths: changed ?? [], changedPathsComplete: changed !== undefined };
  if (!concerns(found.environment, key.part, change)) {
    const comment = await publish(deps.config, context, head, undefined);
    const summary = 'not planned: none of the changed paths concerns this part';
    return { ...report, outcome: 'not-concerned', summary, comment };
  }
  status(deps, context, head, 'pending', 'planning');
  let plan: PartPlan;
  try {
    plan = await planPart(deps, key, found, remote, head);
  } catch (error) {
    if (classify(error) === 'transient') {
      status(deps, context, head, 'pending', `plan interrupted, tried again: ${errorMessage(error)}`);
      throw error;
    }
    plan = { ...emptyPlan(key, head, found), failure: errorMessage(error) };
  }
  if (changed === undefined)
    plan = {
      ...plan,
      notes: [...plan.notes, 'the host listed no changed files: every path counts as changed'],
    };
  const comment = await publish(deps.config, context, head, plan);
  const verdict = verdictOf(plan);
  const summary = summaryOf(plan);
  status(deps, context, head, verdict === 'refused' ? 'failure' : 'success', summary);
  return { ...report, outcome: 'planned', verdict, summary, comment, plan };
}

/** The pull request's changed paths, or undefined when the host does not list them all (or cannot be asked). */
async function changedFiles({ host, token, repository, job }: Context) {
  if (host === undefined || token === undefined) return undefined;
  try {
    return await host.changedFiles(repository, token, job.trigger.pullRequest.number);
  } catch (error) {
    if (classify(error) === 'transient') throw error;
    return undefined;
  }
}

function status(
  deps: PlanJobDependencies,
  { key, job }: Context,
  commit: string,
  state: 'pending' | 'success' | 'failure' | 'superseded',
  description: string,
): void {
  deps.feedback?.status({
    key,
    commit,
    ref: job.ref,
    state,
    description: oneLine(description),
    subject: 'plan',
  });
}

/**
 * Writes the part's section into the pull request's one comment (creating it on the first plan), keeping the
 * other parts' sections. A comment the host refuses is reported, never fatal; an unreachable host is transient.
 */
async function publish(
  config: Config,
  { host, token, repository, job, key }: Context,
  head: string,
  plan: PartPlan | undefined,
): Promise<CommentOutcome> {
  if (host === undefined || token === undefined) return 'not written: no token to comment with';
  const { number } = job.trigger.pullRequest;
  const { dialect } = host;
  try {
    const existing = await host.findComment(repository, token, number, commentMarker(dialect));
    if (existing === undefined && plan === undefined) return 'none';
    const order = configuredParts(config)
      .filter((part) => findPart(config, part)?.app.repository === repository.name)
      .map(partId);
    const section = plan === undefined ? undefined : renderSection(plan, dialect);
    const sections = withSection(
      existing === undefined ? [] : parseSections(existing.body, dialect),
      partId(key),
      section,
      order,
    );
    const body = assembleComment({ sections, commit: head }, dialect);
    if (existing?.body === body) return 'unchanged';
    if (existing === undefined) await host.createComment(repository, token, number, body);
    else await host.updateComment(repository, token, number, existing, body);
    return existing === undefined ? 'created' : 'updated';
  } catch (error) {
    if (classify(error) === 'transient') throw error;
    return `not written: ${errorMessage(error)}`;
  }
}
