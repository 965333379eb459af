import { z } from 'zod';

/** What started a deployment. */
export type JobTrigger =
  | { readonly kind: 'push'; readonly deliveryId: string; readonly provider: 'github' | 'gitlab' | 'gitea' }
  | { readonly kind: 'reconcile'; readonly checkId: string; readonly reason: 'new-commit' | 'drift' }
  | { readonly kind: 'rollback'; readonly requestedBy: string };

/** Which of an environment's Git paths a job deploys: the app's own objects or its environment configuration. */
export type JobPart = 'app' | 'config';

/** One commit to deploy to one app environment: the message on the deploy queue. */
export interface DeployJob {
  readonly app: string;
  readonly environment: string;
  readonly part: JobPart;
  /** The full ref that moved, e.g. `refs/heads/main` or `refs/tags/v1.4.0`. */
  readonly ref: string;
  /** The exact commit SHA to deploy. */
  readonly commit: string;
  readonly trigger: JobTrigger;
  /** ISO-8601 time the job was enqueued. */
  readonly enqueuedAt: string;
}

/** Jobs of one environment part run one at a time, in order: the FIFO message group. */
export function jobGroup(job: Pick<DeployJob, 'app' | 'environment' | 'part'>): string {
  return job.part === 'app' ? `${job.app}/${job.environment}` : `${job.app}/${job.environment}/${job.part}`;
}

/**
 * Which jobs of a batch a later job of the same group supersedes: only the newest push or reconcile of an
 * environment is worth applying. A rollback is never superseded, and supersedes nothing.
 */
export function supersededInBatch(jobs: readonly (DeployJob | undefined)[]): boolean[] {
  const newest = new Map<string, number>();
  jobs.forEach((job, index) => {
    if (job !== undefined && job.trigger.kind !== 'rollback') newest.set(jobGroup(job), index);
  });
  return jobs.map(
    (job, index) =>
      job !== undefined && job.trigger.kind !== 'rollback' && newest.get(jobGroup(job)) !== index,
  );
}

// Built on first use, so that modules importing only `jobGroup` (the webhook) do not load zod.
function deployJobSchema() {
  const sha = z.string().regex(/^[0-9a-f]{40}$/, 'must be a full commit SHA');
  return z.object({
    app: z.string().min(1),
    environment: z.string().min(1),
    part: z.enum(['app', 'config']),
    ref: z.string().min(1),
    commit: sha,
    trigger: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('push'),
        deliveryId: z.string(),
        provider: z.enum(['github', 'gitlab', 'gitea']),
      }),
      z.object({
        kind: z.literal('reconcile'),
        checkId: z.string(),
        reason: z.enum(['new-commit', 'drift']),
      }),
      z.object({ kind: z.literal('rollback'), requestedBy: z.string() }),
    ]),
    enqueuedAt: z.string(),
  });
}

let schema: ReturnType<typeof deployJobSchema> | undefined;

/** A deploy job from a queue message's body, or undefined when the body is not one. */
export function parseDeployJob(body: string): DeployJob | undefined {
  try {
    schema ??= deployJobSchema();
    const result = schema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
