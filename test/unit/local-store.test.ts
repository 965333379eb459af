// The local mode's SQLite store on the real `node:sqlite`: the DynamoDB adapters' semantics for locks,
// deployments, checks and webhook deliveries.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { databasePath, openDatabase } from '../../functions/adapters/local/database.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { syncOf } from '../../functions/core/deploy/run.ts';
import type { InventoryEntry } from '../../functions/core/model/inventory.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import type {
  AppliedRevisionState,
  CheckRecord,
  DeploymentRecord,
  StateChange,
} from '../../functions/core/model/records.ts';

const run = promisify(execFile);

const key: PartKey = { app: 'shop', environment: 'staging', part: 'app' };
const other: PartKey = { app: 'shop', environment: 'production', part: 'app' };

let stateDir: string;
let db: DatabaseSync;
let now: number;
let store: SqliteStore;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ferry-local-store-'));
  db = openDatabase(stateDir);
  now = Date.parse('2026-11-02T10:00:00Z');
  store = new SqliteStore(db, { clock: () => now });
});

afterEach(async () => {
  db.close();
  await rm(stateDir, { recursive: true, force: true });
});

let sequence = 0;
function record(
  id: string,
  result: DeploymentRecord['result'],
  overrides: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  sequence += 1;
  const startedAt = new Date(Date.parse('2026-11-02T10:00:00Z') + sequence * 1000).toISOString();
  return {
    id,
    jobId: `job-${id}`,
    key,
    commit: 'c'.repeat(40),
    ref: 'refs/heads/main',
    trigger: { kind: 'push', deliveryId: 'd1', provider: 'github' },
    startedAt,
    finishedAt: startedAt,
    result,
    message: `${result} ${id}`,
    objects: [],
    ...overrides,
  };
}

const inventory = (name: string): InventoryEntry[] => [
  { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name, hash: 'h1', resourceVersion: '1' },
];

const applied = (commit: string, deploymentId: string, name = 'settings'): AppliedRevisionState => ({
  commit: { commit, ref: 'refs/heads/main', deploymentId, appliedAt: 'now' },
  inventory: inventory(name),
  desired: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop' }, data: { v: '1' } }],
});

/** What a deployment that applied a revision changes. */
const appliedChange = (deployment: DeploymentRecord, name = 'settings'): StateChange => ({
  sync: syncOf(deployment),
  applied: applied(deployment.commit, deployment.id, name),
});

const check = (id: string, action: CheckRecord['action']): CheckRecord => ({
  id,
  at: new Date(now).toISOString(),
  drifted: [],
  action,
  message: `check ${id}`,
});

describe('environment lock', () => {
  test('one owner at a time; the owner may take it again; only the owner unlocks', async () => {
    assert.equal(await store.lock(key, 'deploy-a', 60), true);
    assert.equal(await store.lock(key, 'deploy-b', 60), false);
    assert.equal(await store.lock(key, 'deploy-a', 60), true, 'the owner renews its lock');
    assert.equal(await store.lock(other, 'deploy-b', 60), true, 'another environment has its own lock');
    await store.unlock(key, 'deploy-b');
    assert.equal(await store.lock(key, 'deploy-b', 60), false, "another owner's unlock changes nothing");
    await store.unlock(key, 'deploy-a');
    assert.equal(await store.lock(key, 'deploy-b', 60), true);
  });

  test('an expired lock can be taken by another owner', async () => {
    assert.equal(await store.lock(key, 'deploy-a', 30), true);
    now += 30_000;
    assert.equal(await store.lock(key, 'deploy-b', 30), false, 'still held at its expiry second');
    now += 1000;
    assert.equal(await store.lock(key, 'deploy-b', 30), true);
    assert.equal(store.summary(key).lock?.owner, 'deploy-b');
  });

  test('the lock of a process that died is free', async () => {
    const database = new URL('../../functions/adapters/local/database.ts', import.meta.url).href;
    const sqliteStore = new URL('../../functions/adapters/local/sqlite-store.ts', import.meta.url).href;
    const script = `
      import { openDatabase } from ${JSON.stringify(database)};
      import { SqliteStore } from ${JSON.stringify(sqliteStore)};
      const db = openDatabase(${JSON.stringify(stateDir)});
      const taken = await new SqliteStore(db).lock(${JSON.stringify(key)}, 'deploy-of-a-dead-process', 3600);
      db.close();
      process.stdout.write(String(taken));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(stdout, 'true');
    const live = new SqliteStore(db);
    assert.equal(await live.lock(key, 'deploy-b', 60), true);
  });

  test('a lock creates the state, as the DynamoDB update does', async () => {
    assert.equal(await store.get(key), undefined);
    await store.lock(key, 'deploy-a', 60);
    await store.unlock(key, 'deploy-a');
    assert.deepEqual(await store.get(key), {
      sync: { status: 'Unknown', message: '', at: '' },
      inventory: [],
      recentJobs: [],
    });
  });
});

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('recordDeployment', () => {
  test('while holding the lock it updates the sync status, last applied commit, inventory and desired', async () => {
    await store.lock(key, 'deploy-a', 60);
    const deployment = record('deploy-a', 'succeeded', { commit: A });
    await store.recordDeployment(deployment, appliedChange(deployment));
    const state = await store.get(key);
    assert.equal(state?.lastApplied?.commit, A);
    assert.deepEqual(state?.sync, {
      status: 'Synced',
      message: 'succeeded deploy-a',
      at: deployment.finishedAt,
      commit: A,
    });
    assert.deepEqual(state?.inventory, inventory('settings'));
    assert.deepEqual(state?.recentJobs, ['job-deploy-a']);
    assert.deepEqual(await store.getDesired(key), applied(A, 'deploy-a').desired);
  });

  test('a failed deployment without a revision keeps the last applied commit', async () => {
    await store.lock(key, 'deploy-a', 60);
    const first = record('deploy-a', 'succeeded', { commit: A });
    await store.recordDeployment(first, appliedChange(first));
    await store.unlock(key, 'deploy-a');
    await store.lock(key, 'deploy-b', 60);
    const failed = record('deploy-b', 'failed', { commit: B, failure: 'rejected' });
    await store.recordDeployment(failed, { sync: syncOf(failed) });
    const state = await store.get(key);
    assert.equal(state?.sync.status, 'Failed');
    assert.equal(state?.lastApplied?.commit, A);
    assert.deepEqual(
      (await store.listDeployments(key, 10)).map((d) => [d.id, d.result]),
      [
        ['deploy-b', 'failed'],
        ['deploy-a', 'succeeded'],
      ],
      'history, newest first',
    );
    assert.equal((await store.listDeployments(key, 1)).length, 1);
  });

  test('a deployment that lost its lock records nothing', async () => {
    await store.lock(key, 'deploy-a', 10);
    now += 11_000;
    assert.equal(await store.lock(key, 'deploy-b', 60), true);
    const lost = record('deploy-a', 'succeeded', { commit: A });
    await assert.rejects(
      store.recordDeployment(lost, appliedChange(lost)),
      /deployment deploy-a lost the lock of shop\/staging\/app before it was recorded/,
    );
    assert.deepEqual(await store.listDeployments(key, 10), []);
    const state = await store.get(key);
    assert.equal(state?.lastApplied, undefined);
    assert.deepEqual(state?.inventory, []);
    assert.deepEqual(state?.recentJobs, []);
    assert.equal(await store.getDesired(key), undefined);
  });

  test('a deployment without any lock (no state at all) is refused too', async () => {
    const deployment = record('deploy-x', 'failed', { failure: 'rejected' });
    await assert.rejects(store.recordDeployment(deployment, { sync: syncOf(deployment) }), /lost the lock/);
  });

  test('a deployment of a part no longer configured is only appended to the history, without the lock', async () => {
    await store.lock(key, 'deploy-a', 60);
    const deployment = record('deploy-a', 'succeeded', { commit: A });
    await store.recordDeployment(deployment, appliedChange(deployment));
    const before = await store.get(key);
    await store.appendHistory(record('deploy-s', 'failed', { failure: 'configuration' }));
    assert.deepEqual(await store.get(key), before);
    assert.deepEqual(
      (await store.listDeployments(key, 10)).map((d) => d.result),
      ['failed', 'succeeded'],
    );
  });
});

describe('checks', () => {
  test('a check updates the latest check, and the sync status only when given', async () => {
    await store.recordCheck(key, check('c1', 'none'), {});
    assert.equal(store.summary(key).lastCheck?.id, 'c1');
    assert.deepEqual((await store.get(key))?.sync, { status: 'Unknown', message: '', at: '' });
    const outOfSync = { status: 'OutOfSync', message: 'main moved', at: 'now' } as const;
    await store.recordCheck(key, check('c2', 'out-of-sync'), { sync: outOfSync });
    assert.deepEqual((await store.get(key))?.sync, outOfSync);
    await store.recordCheck(key, check('c3', 'none'), {});
    assert.deepEqual((await store.get(key))?.sync, outOfSync, 'kept when not given');
    assert.equal(store.summary(key).lastCheck?.id, 'c3');
    assert.deepEqual(
      store.listChecks(key, 10).map((c) => c.id),
      ['c3', 'c2', 'c1'],
    );
  });

  test('checks older than a week leave the history', async () => {
    await store.recordCheck(key, check('old', 'none'), {});
    now += 8 * 24 * 3600 * 1000;
    await store.recordCheck(key, check('new', 'none'), {});
    assert.deepEqual(
      store.listChecks(key, 10).map((c) => c.id),
      ['new'],
    );
  });

  test('refreshInventory applies only while the deployment still owns the inventory', async () => {
    await store.lock(key, 'deploy-a', 60);
    const first = record('deploy-a', 'succeeded', { commit: A });
    await store.recordDeployment(first, appliedChange(first));
    await store.refreshInventory(key, 'deploy-a', inventory('refreshed'));
    assert.deepEqual((await store.get(key))?.inventory, inventory('refreshed'));
    await store.unlock(key, 'deploy-a');
    await store.lock(key, 'deploy-b', 60);
    const second = record('deploy-b', 'succeeded', { commit: B });
    await store.recordDeployment(second, appliedChange(second, 'newer'));
    await store.refreshInventory(key, 'deploy-a', inventory('stale'));
    assert.deepEqual((await store.get(key))?.inventory, inventory('newer'));
  });
});

describe('delivery log', () => {
  test('a delivery is remembered once until its record expires', async () => {
    assert.equal(await store.seen('github#1'), false);
    assert.equal(await store.remember('github#1', 3600), true);
    assert.equal(await store.seen('github#1'), true);
    assert.equal(await store.remember('github#1', 3600), false);
    assert.equal(await store.seen('github#2'), false, 'another delivery');
    now += 3600 * 1000;
    assert.equal(await store.seen('github#1'), true, 'still there at its expiry second');
    now += 1000;
    assert.equal(await store.seen('github#1'), false, 'expired');
    assert.equal(await store.remember('github#1', 3600), true, 'an expired record counts as absent');
    assert.equal(await store.remember('github#1', 3600), false);
  });

  test('the records survive reopening the database', async () => {
    await store.remember('gitlab#x', 3600);
    await store.lock(key, 'deploy-a', 60);
    const deployment = record('deploy-a', 'succeeded', { commit: A });
    await store.recordDeployment(deployment, { ...appliedChange(deployment), pin: pinAt(A) });
    db.close();
    db = openDatabase(stateDir);
    const reopened = new SqliteStore(db, { clock: () => now });
    assert.equal(await reopened.seen('gitlab#x'), true);
    const state = await reopened.get(key);
    assert.equal(state?.lastApplied?.commit, A);
    assert.deepEqual(state?.pin, pinAt(A));
    assert.deepEqual(state?.recentJobs, ['job-deploy-a']);
    assert.deepEqual(reopened.listEnvironments(), [key]);
  });
});

describe('the database file', () => {
  /** The environments table as the first schema had it: no pin, queued marker or recent jobs. */
  const writeVersion = (dir: string, version: number) => {
    const old = new DatabaseSync(databasePath(dir));
    old.exec(`CREATE TABLE environments (
      app TEXT NOT NULL, environment TEXT NOT NULL, part TEXT NOT NULL, last_applied TEXT, sync TEXT,
      last_check TEXT, lock_owner TEXT, lock_expires_at INTEGER, lock_pid INTEGER, inventory TEXT,
      inventory_deployment_id TEXT, desired BLOB, PRIMARY KEY (app, environment, part))`);
    old
      .prepare('INSERT INTO environments (app, environment, part, last_applied) VALUES (?, ?, ?, ?)')
      .run(key.app, key.environment, key.part, JSON.stringify(applied(A, 'deploy-old').commit));
    old.exec(`PRAGMA user_version = ${version}`);
    old.close();
  };

  test('a database of the first schema is migrated and keeps its state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-local-store-v1-'));
    try {
      writeVersion(dir, 1);
      const migrated = openDatabase(dir);
      try {
        const upgraded = new SqliteStore(migrated, { clock: () => now });
        assert.deepEqual(await upgraded.get(key), {
          lastApplied: applied(A, 'deploy-old').commit,
          sync: { status: 'Unknown', message: '', at: '' },
          inventory: [],
          recentJobs: [],
        });
        await upgraded.lock(key, 'deploy-a', 60);
        const deployment = record('deploy-a', 'succeeded', { commit: B });
        await upgraded.recordDeployment(deployment, { ...appliedChange(deployment), pin: pinAt(B) });
        assert.deepEqual((await upgraded.get(key))?.pin, pinAt(B));
      } finally {
        migrated.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a database of a newer schema than this code knows is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-local-store-new-'));
    try {
      writeVersion(dir, 99);
      assert.throws(
        () => openDatabase(dir),
        /was written by a newer Ferry \(schema 99, this one knows \d+\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const pinAt = (commit: string) => ({ commit, ref: 'refs/heads/main', by: 'ops', at: '2026-11-02T10:00:00Z' });

describe('suspension', () => {
  test('a part is suspended (its state created if needed) and resumed, and nothing else of its state moves', async () => {
    const suspension = { by: 'ops', at: '2026-11-02T10:00:00Z', reason: 'audit' };
    store.setSuspended(key, suspension);
    assert.deepEqual((await store.get(key))?.suspended, suspension);
    const first = record('d1', 'succeeded');
    assert.ok(await store.lock(key, first.id, 60));
    await store.recordDeployment(first, appliedChange(first));
    assert.deepEqual((await store.get(key))?.suspended, suspension, 'a deployment leaves it');
    store.setSuspended(key, null);
    const state = await store.get(key);
    assert.equal(state?.suspended, undefined);
    assert.equal(state?.lastApplied?.deploymentId, 'd1');
  });
});
