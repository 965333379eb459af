import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { Failure } from '../errors.ts';
import { describeRef, type KubeObject, type ObjectRef, refKey, refOf } from '../objects.ts';
import type { Cluster } from '../ports.ts';
import { type Health, healthOf } from './health.ts';

export interface Unhealthy {
  readonly object: KubeObject;
  readonly health: Health;
}

/**
 * Polls the objects until every one is Current by kstatus's rules, one is Failed, or time runs out.
 * Resolves the objects as last read (their resourceVersions settle once controllers are done) and those
 * that are not Current (none when all are).
 */
export async function waitForHealth(
  cluster: Cluster,
  objects: readonly KubeObject[],
  timeoutMs: number,
  pollMs = 500,
): Promise<{ live: KubeObject[]; unhealthy: Unhealthy[] }> {
  const limit = pLimit(16);
  const deadline = Date.now() + timeoutMs;
  const live = new Map(objects.map((object) => [refKey(refOf(object)), object]));
  const unhealthyOf = () =>
    [...live.values()]
      .map((object) => ({ object, health: healthOf(object) }))
      .filter(({ health }) => health.status !== 'Current');
  let pending = unhealthyOf();
  // Most roll-outs finish within a few hundred milliseconds of the apply: look soon, then less often.
  let delay = Math.min(100, pollMs);
  while (
    pending.length > 0 &&
    !pending.some(({ health }) => health.status === 'Failed') &&
    Date.now() < deadline
  ) {
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, pollMs);
    await Promise.all(
      pending.map(({ object }) =>
        limit(async () => {
          const latest = await cluster.get(refOf(object));
          if (latest !== undefined) live.set(refKey(refOf(object)), latest);
        }),
      ),
    );
    pending = unhealthyOf();
  }
  return { live: [...live.values()], unhealthy: pending };
}

export function describeUnhealthy(unhealthy: readonly Unhealthy[]): string {
  return unhealthy
    .map(({ object, health }) => `${describeRef(refOf(object))}: ${health.status}: ${health.message}`)
    .join('\n');
}

/** How long a wait for health may last: the health timeout, and the deployment's deadline (ms since the epoch). */
export interface WaitBudget {
  readonly timeoutMs: number;
  readonly deadline?: number | undefined;
}

/**
 * Waits for health within the budget: the health timeout, cut short by the deadline. Resolves what
 * `waitForHealth` does; when the deadline, not the health timeout, ended the wait of objects still in
 * progress, throws a transient failure instead, so that the job is tried again.
 */
export async function waitWithin(
  cluster: Cluster,
  objects: readonly KubeObject[],
  budget: WaitBudget,
  what: string,
  pollMs?: number,
): Promise<{ live: KubeObject[]; unhealthy: Unhealthy[] }> {
  const leftMs = budget.deadline === undefined ? budget.timeoutMs : budget.deadline - Date.now();
  const waited = await waitForHealth(
    cluster,
    objects,
    Math.max(0, Math.min(budget.timeoutMs, leftMs)),
    pollMs,
  );
  const failed = waited.unhealthy.some(({ health }) => health.status === 'Failed');
  if (waited.unhealthy.length > 0 && !failed && leftMs < budget.timeoutMs) {
    throw new Failure(
      'transient',
      `the deployment ran out of time waiting for ${what}:\n${describeUnhealthy(waited.unhealthy)}`,
    );
  }
  return waited;
}

/** Polls until the objects are gone, at most `timeoutMs`; resolves those still there. */
export async function waitUntilGone(
  cluster: Cluster,
  refs: readonly ObjectRef[],
  timeoutMs: number,
): Promise<ObjectRef[]> {
  const deadline = Date.now() + timeoutMs;
  let left = [...refs];
  while (left.length > 0) {
    const present = await Promise.all(left.map(async (ref) => (await cluster.get(ref)) !== undefined));
    left = left.filter((_, i) => present[i]);
    if (left.length === 0 || Date.now() > deadline) break;
    await sleep(200);
  }
  return left;
}
