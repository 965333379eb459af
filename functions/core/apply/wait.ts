import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { describeRef, type KubeObject, refOf } from '../objects.ts';
import type { Cluster } from '../ports.ts';
import { type Health, healthOf } from './health.ts';

export interface Unhealthy {
  readonly object: KubeObject;
  readonly health: Health;
}

/**
 * Polls the objects until every one is Current by kstatus's rules, one is Failed, or time runs out.
 * Resolves the objects that are not Current (empty when all are).
 */
export async function waitForHealth(
  cluster: Cluster,
  objects: readonly KubeObject[],
  timeoutMs: number,
  pollMs = 1000,
): Promise<Unhealthy[]> {
  const limit = pLimit(16);
  const deadline = Date.now() + timeoutMs;
  let pending: Unhealthy[] = objects
    .map((object) => ({ object, health: healthOf(object) }))
    .filter(({ health }) => health.status !== 'Current');
  while (
    pending.length > 0 &&
    !pending.some(({ health }) => health.status === 'Failed') &&
    Date.now() < deadline
  ) {
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
    const refreshed = await Promise.all(
      pending.map(({ object }) => limit(async () => (await cluster.get(refOf(object))) ?? object)),
    );
    pending = refreshed
      .map((object) => ({ object, health: healthOf(object) }))
      .filter(({ health }) => health.status !== 'Current');
  }
  return pending;
}

export function describeUnhealthy(unhealthy: readonly Unhealthy[]): string {
  return unhealthy
    .map(({ object, health }) => `${describeRef(refOf(object))}: ${health.status}: ${health.message}`)
    .join('\n');
}
