import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForHealth } from '../../functions/core/apply/wait.ts';
import type { KubeObject } from '../../functions/core/objects.ts';
import type { Cluster } from '../../functions/core/ports.ts';

const deployment = (status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', generation: 2 },
  spec: { replicas: 1 },
  status,
});
const rolledOut = deployment({
  observedGeneration: 2,
  replicas: 1,
  updatedReplicas: 1,
  readyReplicas: 1,
  availableReplicas: 1,
});

/** A cluster whose Deployment has rolled out by the time it is first read again; counts the reads. */
function rolledOutCluster(): { cluster: Cluster; reads: () => number } {
  let reads = 0;
  const cluster = {
    get: async () => {
      reads++;
      return rolledOut;
    },
  } as unknown as Cluster;
  return { cluster, reads: () => reads };
}

test('a roll-out that is done soon after the apply is seen within about 100 ms, not a whole poll interval', async () => {
  const { cluster, reads } = rolledOutCluster();
  const started = Date.now();
  const { unhealthy } = await waitForHealth(cluster, [deployment({})], 10_000, 500);
  assert.deepEqual(unhealthy, []);
  assert.equal(reads(), 1);
  assert.ok(Date.now() - started < 400, `took ${Date.now() - started} ms`);
});

test('the polls back off to the interval given', async () => {
  let reads = 0;
  const cluster = {
    get: async () => {
      reads++;
      return deployment({});
    },
  } as unknown as Cluster;
  // 100, 200, 300 (capped), 300, ... ms: five reads in 1.3 s, where a fixed 100 ms would make thirteen.
  const { unhealthy } = await waitForHealth(cluster, [deployment({})], 1_300, 300);
  assert.equal(unhealthy.length, 1);
  assert.ok(reads >= 4 && reads <= 6, `${reads} reads`);
});
