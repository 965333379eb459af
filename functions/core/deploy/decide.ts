// Deciding what a job does, once the worker holds the part's lock: follow the ref (whatever order jobs came in),
// honour a pin, and apply only when the part does not run the target yet.

import type { EnvironmentConfig } from '../config.ts';
import { short } from '../model/commit.ts';
import type { DeployJob } from '../model/job.ts';
import type { EnvironmentState, Pin } from '../model/records.ts';
import { followRef, type Target } from '../source/tracked-ref.ts';

export type Decision =
  /** Apply the target; `pin` is set (a Pin) or released (null) with the deployment, or left (undefined). */
  | { readonly kind: 'apply'; readonly target: Target; readonly pin?: Pin | null }
  /** The part already runs the target: recorded as current, nothing changes. */
  | { readonly kind: 'current'; readonly target: Target; readonly message: string }
  /** Nothing to do by policy: recorded as skipped. */
  | { readonly kind: 'skip'; readonly target?: Target; readonly message: string }
  /**
   * Not yet: a follower's environment has run nothing long enough, or (`behind`) a dependency is not ready
   * for the target. Recorded as waiting; the job ends, holding nothing.
   */
  | { readonly kind: 'wait'; readonly target?: Target; readonly message: string; readonly behind: boolean };

/** What a follower's environment points it at (see `headFor`): a commit to promote, or why there is none yet. */
export interface Followed {
  readonly target?: Target | undefined;
  readonly waiting?: string;
}

/**
 * What a job does to a part in `state`, given the remote's refs now; for a follower, given what the environment
 * it follows has run (`followed`). A manual deploy or a pin wins over following; a suspended part takes no
 * job but a manual one.
 */
export function decide(
  job: DeployJob,
  environment: EnvironmentConfig,
  state: EnvironmentState | undefined,
  refs: ReadonlyMap<string, string>,
  followed?: Followed,
): Decision {
  const { trigger } = job;
  if (trigger.kind === 'manual')
    return decideManual(job, trigger.pin, trigger.requestedBy, environment, refs);
  const suspended = state?.suspended;
  if (suspended !== undefined)
    return { kind: 'skip', message: `suspended by ${suspended.by} since ${suspended.at}; resume to deploy` };
  const pin = state?.pin;
  const heal = trigger.kind === 'reconcile' && trigger.reason === 'drift';
  if (pin !== undefined) {
    const target = { ref: pin.ref, commit: pin.commit };
    if (heal) return { kind: 'apply', target };
    return {
      kind: 'skip',
      target,
      message: `pinned at ${short(pin.commit)} by ${pin.by}; resume to follow ${pin.ref}`,
    };
  }
  if (environment.follow !== undefined) {
    // A follower heals to what it runs while nothing newer may be promoted.
    const runs = state?.lastApplied;
    const target =
      followed?.target ?? (heal && runs !== undefined ? { ref: runs.ref, commit: runs.commit } : undefined);
    if (target === undefined) {
      const message = followed?.waiting ?? `waiting for ${environment.follow.environment}`;
      return { kind: 'wait', message, behind: false };
    }
    return heal ? { kind: 'apply', target } : decideTarget(job, state, target);
  }
  const target = followRef(environment.trigger, job.ref, refs);
  if (target === undefined) return { kind: 'skip', message: `${job.ref} no longer exists; nothing deployed` };
  if (heal) return { kind: 'apply', target };
  return decideTarget(job, state, target);
}

/** A target found: skip it when it was rejected, say current when the part runs it, else apply it. */
function decideTarget(job: DeployJob, state: EnvironmentState | undefined, target: Target): Decision {
  const sync = state?.sync;
  if (sync?.commit === target.commit && sync.status === 'Failed' && sync.failure === 'rejected') {
    return {
      kind: 'skip',
      target,
      message: `${short(target.commit)} (${target.ref}) was rejected; push a fix or deploy by hand to try again`,
    };
  }
  const runs = state?.lastApplied?.commit === target.commit && sync?.status !== 'Failed';
  if (runs) {
    const hint = job.commit === target.commit ? '' : ` (the job named ${short(job.commit)})`;
    return {
      kind: 'current',
      target,
      message: `already at ${short(target.commit)}, the head of ${target.ref}${hint}`,
    };
  }
  return { kind: 'apply', target };
}

function decideManual(
  job: DeployJob,
  pin: boolean,
  by: string,
  environment: EnvironmentConfig,
  refs: ReadonlyMap<string, string>,
): Decision {
  if (pin) {
    const target = { ref: job.ref, commit: job.commit };
    return { kind: 'apply', target, pin: { ...target, by, at: job.enqueuedAt } };
  }
  const target = followRef(environment.trigger, job.ref, refs);
  if (target === undefined) return { kind: 'skip', message: `${job.ref} does not exist; nothing deployed` };
  return { kind: 'apply', target, pin: null };
}
