import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { describeRef, type KubeObject, refKey, refOf } from '../objects.ts';
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
  while (
    pending.length > 0 &&
    !pending.some(({ health }) => health.status === 'Failed') &&
    Date.now() < deadline
  ) {
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
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
