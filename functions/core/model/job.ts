// The deploy job: the message on the deploy queue. A push or reconcile job is a signal that a part may be behind
// its tracked ref; the worker decides what the part runs when it takes the job. A manual job either pins a
// commit or releases the pin and follows the ref again. A plan job asks what merging a pull request would
// change in a part, against its live cluster, changing nothing.
import { createHash, randomBytes } from 'node:crypto';
import { COMMIT_ID } from './commit.ts';
import { anyText, count, either, flag, messageParser, object, oneOf, type Parser, text } from './message.ts';
import { type PartKey, partId } from './part.ts';
import { PROVIDERS, type Provider } from './provider.ts';

/** What started a deployment. */
export type JobTrigger =
  | { readonly kind: 'push'; readonly deliveryId: string; readonly provider: Provider }
  | { readonly kind: 'reconcile'; readonly checkId: string; readonly reason: 'new-commit' | 'drift' }
  | {
      readonly kind: 'manual';
      readonly requestedBy: string;
      /** Pin the part at the job's commit (auto-sync paused until resumed), or release a pin and follow the ref. */
      readonly pin: boolean;
      /** Prune even when the deployment would delete more objects than the environment's deletion budget. */
      readonly overrideDeletionBudget: boolean;
    }
  | {
      readonly kind: 'plan';
      readonly deliveryId: string;
      readonly provider: Provider;
      readonly pullRequest: PullRequestTarget;
    };

/**
 * The pull request a plan job speaks of. The job's `ref` follows its head in the base repository
 * (`refs/pull/7/head`, `refs/merge-requests/7/head`, ...; its source branch where the host keeps no such ref)
 * and its `commit` is the head the sender saw.
 */
export interface PullRequestTarget {
  /** The configured repository's name: the pull request's plans share one comment, so one message group. */
  readonly repository: string;
  /** The number people see (GitLab's merge request iid). */
  readonly number: number;
  /** The branch it would merge into, as a full ref (`refs/heads/main`). */
  readonly base: string;
  /** Its head lives in another repository (a fork). */
  readonly fork: boolean;
}

export interface DeployJob extends PartKey {
  /** Unique per job and stable across redeliveries: the queue's deduplication id and the record's job id. */
  readonly id: string;
  /** The ref that moved (`refs/heads/main`, `refs/tags/v1.4.0`), or the ref a pin is recorded with. */
  readonly ref: string;
  /** The commit the sender saw: a hint for push and reconcile jobs, the target of a pinning manual job. */
  readonly commit: string;
  readonly trigger: JobTrigger;
  /** ISO-8601 time the job was made. */
  readonly enqueuedAt: string;
}

/**
 * The one deduplication rule. A push job is one per delivery and part, a reconcile job one per check, reason,
 * commit and part (so a new check can enqueue a heal or a retry again), a manual job is always new, a plan job
 * one per delivery and part.
 */
function jobId(key: PartKey, commit: string, trigger: JobTrigger): string {
  const source =
    trigger.kind === 'push'
      ? `push\n${trigger.provider}#${trigger.deliveryId}`
      : trigger.kind === 'reconcile'
        ? `reconcile\n${trigger.checkId}\n${trigger.reason}\n${commit}`
        : trigger.kind === 'plan'
          ? `plan\n${trigger.provider}#${trigger.deliveryId}`
          : `manual\n${randomBytes(12).toString('hex')}`;
  return createHash('sha256')
    .update(`${source}\n${partId(key)}`)
    .digest('hex');
}

/** The one factory of deploy jobs. */
export function createJob(
  key: PartKey,
  target: { readonly ref: string; readonly commit: string },
  trigger: JobTrigger,
  enqueuedAt: Date = new Date(),
): DeployJob {
  return {
    id: jobId(key, target.commit, trigger),
    app: key.app,
    environment: key.environment,
    part: key.part,
    ref: target.ref,
    commit: target.commit,
    trigger,
    enqueuedAt: enqueuedAt.toISOString(),
  };
}

type TriggerOf<K extends JobTrigger['kind']> = Extract<JobTrigger, { kind: K }>;

const trigger: Parser<JobTrigger> = either<JobTrigger>(
  object<TriggerOf<'push'>>({ kind: oneOf(['push']), deliveryId: anyText, provider: oneOf(PROVIDERS) }),
  object<TriggerOf<'reconcile'>>({
    kind: oneOf(['reconcile']),
    checkId: anyText,
    reason: oneOf(['new-commit', 'drift']),
  }),
  object<TriggerOf<'manual'>>({
    kind: oneOf(['manual']),
    requestedBy: anyText,
    pin: flag,
    overrideDeletionBudget: flag,
  }),
  object<TriggerOf<'plan'>>({
    kind: oneOf(['plan']),
    deliveryId: anyText,
    provider: oneOf(PROVIDERS),
    pullRequest: object<PullRequestTarget>({
      repository: text(),
      number: count,
      base: text(/^refs\/heads\//),
      fork: flag,
    }),
  }),
);

/** A plan job: a job whose trigger is a pull request to plan. */
export type PlanJob = DeployJob & { readonly trigger: Extract<JobTrigger, { kind: 'plan' }> };

export const isPlanJob = (job: DeployJob): job is PlanJob => job.trigger.kind === 'plan';

/**
 * The message group of a job. Jobs of a part run one at a time, in order (`partId`). The plans of a pull request
 * have a group of their own, `plan/<repository>/<number>`: they never wait behind deployments, and they take
 * turns with each other, as they share the pull request's one comment.
 */
export function jobGroup(job: DeployJob): string {
  if (!isPlanJob(job)) return partId(job);
  const { repository, number } = job.trigger.pullRequest;
  return `plan/${repository}/${number}`;
}

/** A deploy job from a queue message's body, or undefined when the body is not one. */
export const parseDeployJob: (body: string) => DeployJob | undefined = messageParser(
  object<DeployJob>({
    id: text(/^[0-9a-f]{64}$/),
    app: text(),
    environment: text(),
    part: oneOf(['app', 'config']),
    ref: text(),
    commit: text(COMMIT_ID),
    trigger,
    enqueuedAt: anyText,
  }),
);

/**
 * The wait before a job runs again after its `attempt`-th failed run (1-based): 5 s, doubling, at most 5 min.
 * Both queues use it: the local one's backoff and the SQS message's visibility.
 */
export function retryDelayMs(attempt: number): number {
  return Math.min(5000 * 2 ** (Math.max(1, attempt) - 1), 5 * 60 * 1000);
}
