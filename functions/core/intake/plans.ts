// What a pull request delivery asks: a plan job per part of each environment a merge would deploy, or why it
// plans nothing (closed, merged, a draft, a fork while forks are not planned, no environment follows its
// target branch). Which parts the pull request's files concern is read when the plan runs, from the host.
import type { AppConfig, Config, RepositoryConfig } from '../config.ts';
import { createJob, type DeployJob } from '../model/job.ts';
import { ZERO_ID } from './normalise.ts';
import type { PullRequestEvent } from './pull-request.ts';
import { matchBranch, type SkippedEnvironment } from './triggers.ts';

/** The plan jobs of a pull request event, or why there are none. */
export type PullRequestPlans =
  | { readonly jobs: readonly DeployJob[]; readonly skipped: readonly SkippedEnvironment[] }
  | { readonly ignored: string; readonly skipped: readonly SkippedEnvironment[] };

export interface PlanRequest {
  readonly config: Config;
  readonly repositories: readonly RepositoryConfig[];
  readonly apps: readonly AppConfig[];
  readonly deliveryId: string;
  readonly now: Date;
}

/**
 * One job per part whose environment's branch patterns match the pull request's target branch, for each
 * configured repository the delivery names (usually one). A job follows the pull request's head (`ref`), as a
 * deploy job follows its branch; its commit is the head the host reported (all zeros when it sent none whole).
 */
export function planPullRequest(event: PullRequestEvent, request: PlanRequest): PullRequestPlans {
  if (event.ignored !== undefined) return { ignored: event.ignored, skipped: [] };
  if (event.fork && !request.config.plan.forks)
    return {
      ignored: 'its head is in a fork, and plan.forks is off: its author would choose what is rendered',
      skipped: [],
    };
  const jobs: DeployJob[] = [];
  const skipped: SkippedEnvironment[] = [];
  for (const repository of request.repositories) {
    const apps = request.apps.filter((app) => app.repository === repository.name);
    const result = matchBranch(apps, event.base);
    skipped.push(...result.skipped);
    const trigger = {
      kind: 'plan',
      deliveryId: request.deliveryId,
      provider: event.provider,
      pullRequest: { repository: repository.name, number: event.number, base: event.base, fork: event.fork },
    } as const;
    for (const match of result.matches)
      for (const part of match.parts) {
        const key = { app: match.app.name, environment: match.environment.name, part };
        const target = { ref: event.headRef, commit: event.commit ?? ZERO_ID };
        jobs.push(createJob(key, target, trigger, request.now));
      }
  }
  if (jobs.length > 0) return { jobs, skipped };
  return { ignored: `no environment follows ${event.base.replace(/^refs\/heads\//, '')}`, skipped };
}
