// What `ferry suspend` promises, on the core it relies on: a suspended part's jobs of pushes and checks are
// skipped (a manual one still runs), and a check of it records `suspended` without reaching Git or the cluster
// (both unreachable here: reaching either would record an error instead).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IsomorphicGitSource } from '../../functions/adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { SqliteJobQueue } from '../../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { parseConfig } from '../../functions/core/config.ts';
import { decide } from '../../functions/core/deploy/decide.ts';
import { createJob, type JobTrigger } from '../../functions/core/model/job.ts';
import type { EnvironmentState } from '../../functions/core/model/records.ts';
import { checkEnvironment } from '../../functions/core/reconcile/check.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const config = parseConfig({
  repositories: [{ name: 'r', url: 'http://127.0.0.1:1/o/r.git', provider: 'github', webhookSecret: 's' }],
  clusters: [{ name: 'c', type: 'kubeconfig', kubeconfig: '/nonexistent/kubeconfig' }],
  apps: [
    {
      name: 'shop',
      repository: 'r',
      path: 'deploy',
      environments: [{ name: 'staging', cluster: 'c', namespace: 'shop', trigger: { branches: ['main'] } }],
    },
  ],
});
const environment = config.apps[0]?.environments[0];
const key = { app: 'shop', environment: 'staging', part: 'app' } as const;
const MAIN = 'refs/heads/main';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const suspended: EnvironmentState = {
  sync: { status: 'Synced', message: '', at: '', commit: A },
  lastApplied: { commit: A, ref: MAIN, deploymentId: 'd', appliedAt: '' },
  inventory: [],
  recentJobs: [],
  suspended: { by: 'ops', at: '2026-12-01T10:00:00Z', reason: 'audit' },
};
const refs = new Map([[MAIN, B]]);

describe('a suspended part', () => {
  test('skips jobs of pushes, new commits and drift; runs a manual one', () => {
    assert.ok(environment !== undefined);
    const triggers: JobTrigger[] = [
      { kind: 'push', deliveryId: 'd1', provider: 'github' },
      { kind: 'reconcile', checkId: 't', reason: 'new-commit' },
      { kind: 'reconcile', checkId: 't', reason: 'drift' },
    ];
    for (const trigger of triggers) {
      const decision = decide(
        createJob(key, { ref: MAIN, commit: B }, trigger),
        environment,
        suspended,
        refs,
      );
      assert.deepEqual(decision, {
        kind: 'skip',
        message: 'suspended by ops since 2026-12-01T10:00:00Z; resume to deploy',
      });
    }
    const manual = createJob(
      key,
      { ref: MAIN, commit: B },
      { kind: 'manual', requestedBy: 'ops', pin: false, overrideDeletionBudget: false },
    );
    assert.equal(decide(manual, environment, suspended, refs).kind, 'apply');
  });

  test('is checked without reaching Git or the cluster, and the check says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-suspend-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    const store = new SqliteStore(db);
    store.setSuspended(key, { by: 'ops', at: '2026-12-01T10:00:00Z' });
    const deps = {
      config,
      secrets: new LocalSecretSource({}),
      git: new IsomorphicGitSource(join(dir, 'git')),
      tools: { kustomize: async () => '', helmTemplate: async () => '' },
      store,
      clusters: new KubernetesClusterConnector(),
      queue: new SqliteJobQueue(db),
    };
    const check = { ...key, tickId: 't1', scheduledAt: new Date().toISOString() };
    const record = await checkEnvironment(check, deps);
    assert.equal(record.action, 'suspended');
    assert.equal(
      record.message,
      'suspended by ops since 2026-12-01T10:00:00Z; nothing checked until resumed',
    );
    assert.equal(store.summary(key).lastCheck?.action, 'suspended');
    store.setSuspended(key, null);
    const resumed = await checkEnvironment({ ...check, tickId: 't2' }, deps);
    assert.equal(resumed.action, 'error', 'resumed, the check reaches Git, which is unreachable here');
    db.close();
  });
});
