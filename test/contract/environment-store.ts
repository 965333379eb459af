// The contract of the environment store and its checks' view (ports `EnvironmentStore` and `CheckStore`), run
// against every adapter that implements them: the part's lock as a lease, deployments recorded only under the
// lock and whole, the history, checks and the inventory refresh.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syncOf } from '../../functions/core/deploy/run.ts';
import type { InventoryEntry } from '../../functions/core/model/inventory.ts';
import type { PartKey, PartName } from '../../functions/core/model/part.ts';
import {
  type AppliedRevisionState,
  type CheckRecord,
  type DeploymentRecord,
  type Pin,
  type QueuedDeploy,
  type StateChange,
  type SyncState,
  UNKNOWN_SYNC,
} from '../../functions/core/model/records.ts';
import type { CheckStore, EnvironmentStore } from '../../functions/core/ports.ts';

/** An adapter under test, fresh for one suite; `close` frees what it holds. */
export interface StoreUnderTest {
  readonly store: EnvironmentStore & CheckStore;
  close(): Promise<void>;
}

let parts = 0;
/** A part no other test of the suite touches. */
function freshPart(part: PartName = 'app'): PartKey {
  parts += 1;
  return { app: `shop-${parts}`, environment: 'staging', part };
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const MAIN = 'refs/heads/main';

let clock = Date.parse('2026-11-02T10:00:00Z');
/** Distinct, increasing times: records sort by them. */
function nextTime(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

function record(
  key: PartKey,
  id: string,
  result: DeploymentRecord['result'],
  extra: Partial<DeploymentRecord> = {},
) {
  const startedAt = nextTime();
  const deployment: DeploymentRecord = {
    id,
    jobId: `job-${id}`,
    key,
    commit: A,
    ref: MAIN,
    trigger: { kind: 'push', deliveryId: `delivery-${id}`, provider: 'github' },
    startedAt,
    finishedAt: startedAt,
    result,
    message: `${result} ${id}`,
    objects: [],
    ...extra,
  };
  return deployment;
}

const inventory = (name: string, resourceVersion = '1'): InventoryEntry[] => [
  { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name, hash: `hash-${name}`, resourceVersion },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', hash: 'hash-web' },
];

function applied(deployment: DeploymentRecord, name = 'settings'): AppliedRevisionState {
  return {
    commit: {
      commit: deployment.commit,
      ref: deployment.ref,
      deploymentId: deployment.id,
      appliedAt: deployment.finishedAt,
    },
    inventory: inventory(name),
    desired: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'shop' },
        data: { commit: deployment.commit },
      },
    ],
  };
}

/** What a deployment that applied its revision changes, as the deploy use case records it. */
const appliedChange = (deployment: DeploymentRecord, name = 'settings'): StateChange => ({
  sync: syncOf(deployment),
  applied: applied(deployment, name),
});

const pin = (commit: string): Pin => ({ commit, ref: MAIN, by: 'ops@example.com', at: nextTime() });
const queued = (commit: string): QueuedDeploy => ({
  commit,
  reason: 'drift',
  checkId: 'tick-1.check',
  at: nextTime(),
});
const outOfSync = (commit: string): SyncState => ({
  status: 'OutOfSync',
  message: 'main moved',
  at: nextTime(),
  commit,
});

function check(id: string, action: CheckRecord['action'] = 'none'): CheckRecord {
  return {
    id,
    at: nextTime(),
    headCommit: B,
    headRef: MAIN,
    drifted: action === 'heal' ? [{ object: 'ConfigMap shop/settings', reason: 'modified' }] : [],
    action,
    message: `check ${id}`,
  };
}

/** The state of a part that has a lock or a check but no deployment yet. */
const EMPTY_STATE = { sync: UNKNOWN_SYNC, inventory: [], recentJobs: [] };

/** The environment store contract, as one suite named after the adapter. */
export function environmentStoreContract(adapter: string, open: () => Promise<StoreUnderTest>): void {
  describe(`environment store contract: ${adapter}`, () => {
    let underTest: StoreUnderTest | undefined;
    const store = () => {
      assert.ok(underTest !== undefined, 'the adapter was opened');
      return underTest.store;
    };
    before(async () => {
      underTest = await open();
    });
    after(() => underTest?.close());

    /** Records `deployment` under a lock of its own, as a worker does. */
    async function deployed(deployment: DeploymentRecord, change: StateChange): Promise<void> {
      assert.equal(
        await store().lock(deployment.key, deployment.id, 60),
        true,
        `${deployment.id} takes the lock`,
      );
      await store().recordDeployment(deployment, change);
      await store().unlock(deployment.key, deployment.id);
    }

    describe('the lock', () => {
      test('one owner at a time; the owner takes it again; only the owner unlocks', async () => {
        const key = freshPart();
        assert.equal(await store().lock(key, 'deploy-a', 60), true);
        assert.equal(await store().lock(key, 'deploy-b', 60), false);
        assert.equal(await store().lock(key, 'deploy-a', 60), true, 'the owner renews its lease');
        await store().unlock(key, 'deploy-b');
        assert.equal(
          await store().lock(key, 'deploy-b', 60),
          false,
          "another owner's unlock changes nothing",
        );
        await store().unlock(key, 'deploy-a');
        assert.equal(await store().lock(key, 'deploy-b', 60), true);
      });

      test('each part has its own lock, the config part apart from the app part', async () => {
        const key = freshPart();
        const configPart: PartKey = { ...key, part: 'config' };
        const otherEnvironment: PartKey = { ...key, environment: 'production' };
        assert.equal(await store().lock(key, 'deploy-a', 60), true);
        assert.equal(await store().lock(configPart, 'deploy-b', 60), true);
        assert.equal(await store().lock(otherEnvironment, 'deploy-c', 60), true);
      });

      test('an expired lease is taken by another owner; its former owner can neither renew nor unlock it', async () => {
        const key = freshPart();
        assert.equal(await store().lock(key, 'deploy-a', -60), true, 'a lease that ended a minute ago');
        assert.equal(await store().lock(key, 'deploy-b', 60), true);
        assert.equal(await store().lock(key, 'deploy-a', 60), false);
        await store().unlock(key, 'deploy-a');
        assert.equal(await store().lock(key, 'deploy-c', 60), false, 'deploy-b still holds it');
      });

      test('renewing extends the lease', async () => {
        const key = freshPart();
        assert.equal(await store().lock(key, 'deploy-a', -60), true);
        assert.equal(await store().lock(key, 'deploy-a', 60), true);
        assert.equal(await store().lock(key, 'deploy-b', 60), false, 'the renewed lease has not expired');
      });

      test('renew extends only a lock the owner still holds, and never takes a free one', async () => {
        const key = freshPart();
        assert.equal(await store().renew(key, 'deploy-a', 60), false, 'nothing to renew');
        assert.equal(await store().lock(key, 'deploy-a', -60), true);
        assert.equal(await store().renew(key, 'deploy-a', 60), true);
        assert.equal(await store().lock(key, 'deploy-b', 60), false, 'the renewed lease has not expired');
        await store().unlock(key, 'deploy-a');
        assert.equal(await store().renew(key, 'deploy-a', 60), false, 'a renewal after the release');
        assert.equal(await store().lock(key, 'deploy-b', 60), true, 'the late renewal left the part free');
        assert.equal(await store().renew(key, 'deploy-a', 60), false, "another owner's lock is not renewed");
      });

      test('unlocking a part nobody locked changes nothing', async () => {
        const key = freshPart();
        await store().unlock(key, 'deploy-a');
        assert.equal(await store().get(key), undefined);
        assert.equal(await store().lock(key, 'deploy-b', 60), true);
      });

      test('a part nothing was recorded for has no state; a lock creates an empty one', async () => {
        const key = freshPart();
        assert.equal(await store().get(key), undefined);
        await store().lock(key, 'deploy-a', 60);
        await store().unlock(key, 'deploy-a');
        assert.deepEqual(await store().get(key), EMPTY_STATE);
      });
    });

    describe('recordDeployment', () => {
      test('under the lock it records the deployment and applies the change: sync, applied commit, inventory, desired', async () => {
        const key = freshPart();
        const deployment = record(key, 'deploy-a', 'succeeded');
        await deployed(deployment, appliedChange(deployment));
        assert.deepEqual(await store().get(key), {
          lastApplied: applied(deployment).commit,
          sync: syncOf(deployment),
          inventory: inventory('settings'),
          recentJobs: ['job-deploy-a'],
        });
        assert.deepEqual(await store().getDesired(key), applied(deployment).desired);
        assert.deepEqual(await store().listDeployments(key, 10), [deployment]);
      });

      test('a change that names nothing leaves sync, applied commit and inventory as they were', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        const before = await store().get(key);
        const current = record(key, 'deploy-b', 'current', { requestedCommit: C });
        await deployed(current, {});
        assert.deepEqual(await store().get(key), { ...before, recentJobs: ['job-deploy-b', 'job-deploy-a'] });
        assert.deepEqual(await store().getDesired(key), applied(first).desired);
      });

      test('a failure without a revision sets the sync and keeps the last applied commit, inventory and desired', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        const failed = record(key, 'deploy-b', 'failed', { commit: B, failure: 'rejected' });
        await deployed(failed, { sync: syncOf(failed) });
        const state = await store().get(key);
        assert.deepEqual(state?.sync, syncOf(failed));
        assert.deepEqual(state?.lastApplied, applied(first).commit);
        assert.deepEqual(state?.inventory, inventory('settings'));
        assert.deepEqual(await store().getDesired(key), applied(first).desired);
      });

      test('a later revision replaces the applied commit, inventory and desired', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        const second = record(key, 'deploy-b', 'succeeded', { commit: B });
        await deployed(second, appliedChange(second, 'newer'));
        const state = await store().get(key);
        assert.deepEqual(state?.lastApplied, applied(second).commit);
        assert.deepEqual(state?.inventory, inventory('newer'));
        assert.deepEqual(await store().getDesired(key), applied(second, 'newer').desired);
      });

      test('a pin is set, kept while a change names none, and removed by null', async () => {
        const key = freshPart();
        const pinned = pin(B);
        const first = record(key, 'deploy-a', 'succeeded', { commit: B });
        await deployed(first, { ...appliedChange(first), pin: pinned });
        assert.deepEqual((await store().get(key))?.pin, pinned);
        await deployed(record(key, 'deploy-b', 'skipped'), {});
        assert.deepEqual((await store().get(key))?.pin, pinned, 'kept');
        const released = record(key, 'deploy-c', 'succeeded');
        await deployed(released, { ...appliedChange(released), pin: null });
        const state = await store().get(key);
        assert.equal(state !== undefined && 'pin' in state, false, 'released');
        assert.equal(state?.lastApplied?.commit, A);
      });

      test('recording a deployment clears the queued marker a check set', async () => {
        const key = freshPart();
        const marker = queued(A);
        await store().recordCheck(key, check('c1', 'heal'), { queued: marker });
        assert.deepEqual((await store().get(key))?.queued, marker, 'the marker is set');
        await deployed(record(key, 'deploy-a', 'current'), {});
        const state = await store().get(key);
        assert.equal(state !== undefined && 'queued' in state, false);
      });

      test('final records are remembered among the recent jobs, newest first; transient attempts and repeats are not', async () => {
        const key = freshPart();
        await deployed(record(key, 'deploy-a', 'succeeded', { jobId: 'j1' }), {});
        const attempt = record(key, 'deploy-b', 'failed', { jobId: 'j2', failure: 'transient' });
        await deployed(attempt, { sync: syncOf(attempt) });
        assert.deepEqual((await store().get(key))?.recentJobs, ['j1']);
        const retry = record(key, 'deploy-c', 'failed', { jobId: 'j2', failure: 'rejected' });
        await deployed(retry, { sync: syncOf(retry) });
        assert.deepEqual((await store().get(key))?.recentJobs, ['j2', 'j1']);
        await deployed(record(key, 'deploy-d', 'skipped', { jobId: 'j1' }), {});
        assert.deepEqual((await store().get(key))?.recentJobs, ['j2', 'j1']);
        assert.deepEqual(
          (await store().listDeployments(key, 10)).map((d) => d.id),
          ['deploy-d', 'deploy-c', 'deploy-b', 'deploy-a'],
          'every attempt is in the history',
        );
      });

      test('a deployment that lost its lock fails whole: no history, no state change', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        const before = await store().get(key);
        assert.equal(await store().lock(key, 'deploy-lost', -60), true, 'a lease that has ended');
        assert.equal(await store().lock(key, 'deploy-c', 60), true, 'taken by another worker');
        const lost = record(key, 'deploy-lost', 'succeeded', { commit: B });
        await assert.rejects(
          store().recordDeployment(lost, { ...appliedChange(lost, 'lost'), pin: pin(B) }),
          /deployment deploy-lost lost the lock of shop-\d+\/staging\/app before it was recorded/,
        );
        assert.deepEqual(await store().get(key), before);
        assert.deepEqual(await store().getDesired(key), applied(first).desired);
        assert.deepEqual(
          (await store().listDeployments(key, 10)).map((d) => d.id),
          ['deploy-a'],
        );
      });

      test('a deployment on a part nobody locked is refused and creates nothing', async () => {
        const key = freshPart();
        const deployment = record(key, 'deploy-x', 'failed', { failure: 'rejected' });
        await assert.rejects(
          store().recordDeployment(deployment, { sync: syncOf(deployment) }),
          /lost the lock/,
        );
        assert.equal(await store().get(key), undefined);
        assert.deepEqual(await store().listDeployments(key, 10), []);
      });

      test('a large revision (4,000 objects) is recorded whole: history, applied commit and inventory', async () => {
        const key = freshPart();
        const names = Array.from({ length: 4000 }, (_, i) => `settings-${String(i).padStart(4, '0')}`);
        const deployment = record(key, 'deploy-large', 'succeeded', {
          objects: names.map((name) => ({ object: `ConfigMap shop/${name}`, action: 'created' })),
        });
        const large: AppliedRevisionState = {
          ...applied(deployment),
          inventory: names.map((name, i) => ({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            namespace: 'shop',
            name,
            hash: i.toString(16).padStart(32, '0'),
            resourceVersion: String(100_000 + i),
          })),
        };
        await deployed(deployment, { sync: syncOf(deployment), applied: large });
        const state = await store().get(key);
        assert.deepEqual(state?.lastApplied, large.commit);
        assert.equal(state?.inventory.length, 4000);
        assert.deepEqual(state?.inventory, large.inventory);
        assert.deepEqual(await store().listDeployments(key, 1), [deployment]);
      });

      test('a record comes back from the history as it was written', async () => {
        const key = freshPart('config');
        const deployment = record(key, 'deploy-a', 'failed', {
          commit: B,
          requestedCommit: A,
          ref: 'refs/tags/v1.2.0',
          trigger: {
            kind: 'manual',
            requestedBy: 'ops@example.com',
            pin: true,
            overrideDeletionBudget: true,
          },
          failure: 'rejected',
          message: 'render failed: kustomize failed: missing.yaml',
          objects: [
            { object: 'ConfigMap shop/settings', action: 'configured' },
            { object: 'Deployment shop/web', action: 'failed', message: 'spec.selector: field is immutable' },
          ],
        });
        await deployed(deployment, { sync: syncOf(deployment) });
        assert.deepEqual(await store().listDeployments(key, 10), [deployment]);
      });
    });

    describe('appendHistory', () => {
      test('needs no lock and leaves the state alone, even while another owner holds the lock', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        assert.equal(await store().lock(key, 'deploy-b', 60), true);
        const before = await store().get(key);
        const unconfigured = record(key, 'deploy-x', 'failed', { failure: 'configuration', jobId: 'jx' });
        await store().appendHistory(unconfigured);
        assert.deepEqual(await store().get(key), before);
        assert.deepEqual(await store().listDeployments(key, 10), [unconfigured, first]);
      });

      test('on a part with no state it writes the history only', async () => {
        const key = freshPart();
        const unconfigured = record(key, 'deploy-x', 'failed', { failure: 'configuration' });
        await store().appendHistory(unconfigured);
        assert.equal(await store().get(key), undefined);
        assert.deepEqual(await store().listDeployments(key, 10), [unconfigured]);
      });

      test('a record appended twice is listed once', async () => {
        const key = freshPart();
        const unconfigured = record(key, 'deploy-x', 'failed', { failure: 'configuration' });
        await store().appendHistory(unconfigured);
        await store().appendHistory(unconfigured);
        assert.deepEqual(await store().listDeployments(key, 10), [unconfigured]);
      });
    });

    describe('listDeployments', () => {
      test('newest first by start time, at most the limit, one part only', async () => {
        const key = freshPart();
        const [one, two, three] = [1, 2, 3].map((n) => record(key, `deploy-${n}`, 'skipped'));
        assert.ok(one !== undefined && two !== undefined && three !== undefined);
        for (const deployment of [two, three, one]) await store().appendHistory(deployment);
        await store().appendHistory(record({ ...key, part: 'config' }, 'deploy-config', 'skipped'));
        await store().appendHistory(
          record({ ...key, environment: 'production' }, 'deploy-production', 'skipped'),
        );
        assert.deepEqual(await store().listDeployments(key, 10), [three, two, one]);
        assert.deepEqual(await store().listDeployments(key, 2), [three, two]);
        assert.deepEqual(await store().listDeployments(freshPart(), 10), []);
      });
    });

    describe('checks', () => {
      test('a check on a part with no state creates an empty one; it sets the sync only when given', async () => {
        const key = freshPart();
        await store().recordCheck(key, check('c1'), {});
        assert.deepEqual(await store().get(key), EMPTY_STATE);
        const behind = outOfSync(B);
        await store().recordCheck(key, check('c2', 'out-of-sync'), { sync: behind });
        assert.deepEqual((await store().get(key))?.sync, behind);
        await store().recordCheck(key, check('c3'), {});
        assert.deepEqual((await store().get(key))?.sync, behind, 'kept when not given');
      });

      test('the queued marker is set by a check, kept when not named, and removed by null', async () => {
        const key = freshPart();
        const marker = queued(B);
        await store().recordCheck(key, check('c1', 'deploy'), { queued: marker });
        assert.deepEqual((await store().get(key))?.queued, marker);
        await store().recordCheck(key, check('c2', 'queued'), {});
        assert.deepEqual((await store().get(key))?.queued, marker, 'kept');
        await store().recordCheck(key, check('c3', 'pinned'), { queued: null });
        const state = await store().get(key);
        assert.equal(state !== undefined && 'queued' in state, false, 'removed');
      });

      test("a check leaves the deployment's state alone: applied commit, inventory, pin, recent jobs, lock", async () => {
        const key = freshPart();
        const pinned = pin(A);
        const first = record(key, 'deploy-a', 'succeeded');
        await store().lock(key, 'deploy-a', 60);
        await store().recordDeployment(first, { ...appliedChange(first), pin: pinned });
        const behind = outOfSync(B);
        await store().recordCheck(key, check('c1', 'pinned'), { sync: behind });
        assert.deepEqual(await store().get(key), {
          lastApplied: applied(first).commit,
          sync: behind,
          inventory: inventory('settings'),
          pin: pinned,
          recentJobs: ['job-deploy-a'],
        });
        assert.equal(await store().lock(key, 'deploy-b', 60), false, 'deploy-a still holds the lock');
      });

      test('a check that finds many objects drifted (2,500, each with its changes) is recorded', async () => {
        const key = freshPart();
        const drifted = Array.from({ length: 2500 }, (_, i) => ({
          object: `Deployment shop/web-${String(i).padStart(4, '0')}`,
          reason: 'modified' as const,
          changes: [
            {
              path: '/spec/template/spec/containers/0/image',
              live: 'registry.example.com/shop/web:1.2.3',
              desired: 'registry.example.com/shop/web:1.2.4',
            },
          ],
        }));
        const large: CheckRecord = { ...check('c-large', 'heal'), drifted };
        const marker = queued(A);
        await store().recordCheck(key, large, { sync: outOfSync(A), queued: marker });
        assert.deepEqual((await store().get(key))?.queued, marker);
      });

      test('getDesired: none before a deployment kept them, then the last applied revision', async () => {
        const key = freshPart();
        assert.equal(await store().getDesired(key), undefined);
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        assert.deepEqual(await store().getDesired(key), applied(first).desired);
      });

      test('refreshInventory stores resourceVersions while the deployment still owns the inventory, nothing else', async () => {
        const key = freshPart();
        const first = record(key, 'deploy-a', 'succeeded');
        await deployed(first, appliedChange(first));
        const before = await store().get(key);
        await store().refreshInventory(key, 'deploy-a', inventory('settings', '7'));
        assert.deepEqual(await store().get(key), { ...before, inventory: inventory('settings', '7') });
        const second = record(key, 'deploy-b', 'succeeded', { commit: B });
        await deployed(second, appliedChange(second, 'newer'));
        await store().refreshInventory(key, 'deploy-a', inventory('settings', '8'));
        assert.deepEqual(
          (await store().get(key))?.inventory,
          inventory('newer'),
          'a newer deployment replaced it',
        );
      });

      test('refreshInventory on a part with no deployment writes nothing', async () => {
        const key = freshPart();
        await store().refreshInventory(key, 'deploy-a', inventory('settings'));
        assert.equal(await store().get(key), undefined);
      });
    });
  });
}
