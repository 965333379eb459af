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
