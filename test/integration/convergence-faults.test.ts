// Converging through real API server faults: a kube-apiserver of the test's own, killed part-way through a
// deployment's dry-run and apply, or stopped (SIGSTOP) so that it accepts requests and never answers. The faults
// are timed by a decorator of the Cluster port that counts requests; the faults themselves are the apiserver's.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import type { Config } from '../../functions/core/config.ts';
import { type DeployDependencies, deploy } from '../../functions/core/deploy/deploy.ts';
import { LEASE_SECONDS } from '../../functions/core/deploy/lease.ts';
import { classify, Failure } from '../../functions/core/errors.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import type { DeploymentRecord, SyncStatus } from '../../functions/core/model/records.ts';
import type { Cluster, ClusterConnector, EnvironmentStore } from '../../functions/core/ports.ts';
import { type DeployFixture, deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { type PrivateApiserver, startPrivateApiserver } from '../support/private-apiserver.ts';
import { createNamespaces, uniqueName } from '../support/testbed.ts';

/** A kubeconfig file for a private apiserver, as the fixture's cluster is configured with one. */
async function writeKubeconfig(apiserver: PrivateApiserver): Promise<string> {
  const file = join(tmpdir(), `${uniqueName('kubeconfig')}.yaml`);
  await writeFile(
    file,
    yaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'private', cluster: { server: apiserver.server, 'certificate-authority': apiserver.caFile } },
      ],
      users: [{ name: 'admin', user: { token: apiserver.token } }],
      contexts: [{ name: 'private', context: { cluster: 'private', user: 'admin' } }],
      'current-context': 'private',
    }),
    { mode: 0o600 },
  );
  return file;
}

function apiOf(apiserver: PrivateApiserver): KubernetesApi {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'private', server: apiserver.server, caFile: apiserver.caFile, skipTLSVerify: false }],
    users: [{ name: 'admin', token: apiserver.token }],
    contexts: [{ name: 'private', cluster: 'private', user: 'admin' }],
    currentContext: 'private',
  });
  return new KubernetesApi(config);
}

type Phase = 'dry-run' | 'apply';

/**
 * The Cluster port as the deploy engine reaches it, counting server-side applies; when armed, it runs a fault
 * (kill, pause) at the n-th request of a phase, before that request is sent, and lets every request go on to
 * the real apiserver.
 */
class FaultTimer implements ClusterConnector {
  readonly #inner: ClusterConnector;
  readonly counts: Record<Phase, number> = { 'dry-run': 0, apply: 0 };
  #armed: { phase: Phase; at: number; fault: () => Promise<void> | void } | undefined;
  /** Whether the armed fault ran. */
  fired = false;

  constructor(inner: ClusterConnector) {
    this.#inner = inner;
  }

  /** Runs `fault` at the `at`-th request of `phase` from now. */
  arm(phase: Phase, at: number, fault: () => Promise<void> | void): void {
    this.#armed = { phase, at: this.counts[phase] + at, fault };
    this.fired = false;
  }

  async connect(config: Parameters<ClusterConnector['connect']>[0]): Promise<Cluster> {
    const cluster = await this.#inner.connect(config);
    return {
      resourceType: (apiVersion, kind) => cluster.resourceType(apiVersion, kind),
      refreshResourceTypes: () => cluster.refreshResourceTypes(),
      get: (ref) => cluster.get(ref),
      list: (apiVersion, kind, namespace, labels) => cluster.list(apiVersion, kind, namespace, labels),
      delete: (ref) => cluster.delete(ref),
      apply: async (object, options) => {
        const phase: Phase = options.dryRun ? 'dry-run' : 'apply';
        this.counts[phase]++;
        const armed = this.#armed;
        if (armed?.phase === phase && this.counts[phase] >= armed.at) {
          this.#armed = undefined;
          this.fired = true;
          await armed.fault();
        }
        return cluster.apply(object, options);
      },
    };
  }
}

/** A fixture whose one environment runs on the private apiserver, reached through `connector`. */
async function privateFixture(
  apiserver: PrivateApiserver,
  connector: ClusterConnector,
): Promise<{ fixture: DeployFixture; deps: DeployDependencies; key: PartKey }> {
  const fixture = await deployFixture();
  const kubeconfig = await writeKubeconfig(apiserver);
  const config: Config = {
    ...fixture.deps.config,
    clusters: fixture.deps.config.clusters.map((c) => (c.type === 'kubeconfig' ? { ...c, kubeconfig } : c)),
  };
  return {
    fixture,
    deps: { ...fixture.deps, config, clusters: connector },
    key: { app: fixture.app, environment: 'staging', part: 'app' },
  };
}

/** `count` ConfigMaps whose data is `v`. */
const revision = (count: number, v: string) =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => {
      const name = `cm-${String(i).padStart(3, '0')}`;
      return [`deploy/${name}.yaml`, yaml(configMap(name, { v, padding: 'x'.repeat(200) }))];
    }),
  );

/** The `v` of every ConfigMap of the revision, counted by value. */
async function liveVersions(api: KubernetesApi, namespace: string): Promise<Record<string, number>> {
  const { items } = await api.request<{ items: { metadata: { name: string }; data?: { v?: string } }[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/configmaps`,
  });
  const counts: Record<string, number> = {};
  for (const item of items) {
    if (!item.metadata.name.startsWith('cm-')) continue;
    const v = item.data?.v ?? 'none';
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

/** Runs a deploy that must fail transiently; returns the failure and how long it took to settle. */
async function transientAttempt(job: DeployJob, deps: DeployDependencies) {
  const started = Date.now();
  const error = await deploy(job, deps).then(
    (record) => assert.fail(`the deploy was expected to fail, it ${record.result}: ${record.message}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof Failure, `not a classified failure: ${String(error)}`);
  assert.equal(classify(error), 'transient', error.message);
  return { error, ms: Date.now() - started };
}

/**
 * Polls the part's sync status while a scenario runs: every status a person looking at `ferry status` would have
 * seen, in order, with the commit it named.
 */
function watchSync(deps: DeployDependencies, key: PartKey) {
  const seen: { status: SyncStatus; commit: string | undefined; at: number }[] = [];
  const sample = async () => {
    const sync = (await deps.store.get(key))?.sync;
    const last = seen.at(-1);
    if (sync !== undefined && (last?.status !== sync.status || last.commit !== sync.commit))
      seen.push({ status: sync.status, commit: sync.commit, at: Date.now() });
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      await sample();
      // A polling cadence, not a synchronisation.
      await sleep(50);
    }
  })();
  return {
    /** Stops polling; the status at that moment is the last one seen. */
    async stop() {
      running = false;
      await loop;
      await sample();
      return seen;
    },
  };
}

const reachedOf = (record: DeploymentRecord | undefined) =>
  Number(/(\d+) of \d+ object\(s\) reached the revision/.exec(record?.message ?? '')?.[1] ?? Number.NaN);

describe('an API server killed mid-deployment', () => {
  let apiserver: PrivateApiserver;
  let api: KubernetesApi;
  before(async () => {
    apiserver = await startPrivateApiserver();
    api = apiOf(apiserver);
  });
  after(async () => {
    api?.close();
    await apiserver?.stop();
  });

  test('an API server killed mid-dry-run and mid-apply converges once it is back', async (t) => {
    const COUNT = 150;
    const timer = new FaultTimer(new KubernetesClusterConnector());
    const { fixture, deps, key } = await privateFixture(apiserver, timer);
    await createNamespaces(api, [fixture.namespace]);
    const first = await fixture.workspace.commit(revision(COUNT, '1'), 'v1');
    await fixture.workspace.push();
    const deployed = await deploy(fixture.job(first), deps);
    assert.equal(deployed.result, 'succeeded', deployed.message);
    assert.deepEqual(await liveVersions(api, fixture.namespace), { '1': COUNT });

    const second = await fixture.workspace.commit(revision(COUNT, '2'), 'v2');
    await fixture.workspace.push();
    const job = fixture.job(second);
    const watcher = watchSync(deps, key);
    let seen: Awaited<ReturnType<ReturnType<typeof watchSync>['stop']>>;
    const timings: string[] = [];
    let reached: number;
    let liveAfterApplyKill: Record<string, number>;
    let finalRecord: DeploymentRecord;
    try {
      // Attempt 1: the apiserver dies after 40 of the 150 dry-runs.
      timer.arm('dry-run', 40, () => apiserver.kill());
      const dryRunKill = await transientAttempt(job, deps);
      assert.ok(timer.fired);
      timings.push(`dry-run kill settled in ${dryRunKill.ms} ms`);
      const [interrupted] = await fixture.store.listDeployments(key, 1);
      assert.equal(interrupted?.result, 'failed');
      assert.equal(interrupted?.failure, 'transient');
      assert.equal(interrupted?.commit, second);
      assert.match(interrupted?.message ?? '', /validation was interrupted, nothing applied/);
      let state = await fixture.store.get(key);
      assert.equal(state?.sync.status, 'Failed');
      assert.equal(state?.sync.failure, 'transient');
      assert.equal(state?.lastApplied?.commit, first);
      // The part is not stuck: another worker could take it.
      assert.equal(await fixture.store.lock(key, 'another-worker', 60), true);
      await fixture.store.unlock(key, 'another-worker');

      let started = Date.now();
      await apiserver.restart();
      timings.push(`restart ${Date.now() - started} ms`);
      assert.deepEqual(await liveVersions(api, fixture.namespace), { '1': COUNT }, 'nothing was applied');

      // Attempt 2, the queue's retry of the same job: the apiserver dies after 60 of the 150 applies.
      timer.arm('apply', 60, () => apiserver.kill());
      const applyKill = await transientAttempt(job, deps);
      assert.ok(timer.fired);
      timings.push(`apply kill settled in ${applyKill.ms} ms`);
      const [halfway] = await fixture.store.listDeployments(key, 1);
      assert.equal(halfway?.result, 'failed');
      assert.equal(halfway?.failure, 'transient');
      reached = reachedOf(halfway);
      assert.ok(reached > 0 && reached < COUNT, halfway?.message);
      const actions = (halfway?.objects ?? []).map((o) => o.action);
      assert.equal(
        actions.filter((a) => a === 'configured').length,
        reached,
        'the record lists each object that reached the revision',
      );
      assert.equal(actions.length, COUNT, 'the record lists every object, reached or not');
      state = await fixture.store.get(key);
      assert.equal(state?.sync.status, 'Failed');
      assert.equal(state?.sync.failure, 'transient');
      assert.equal(state?.lastApplied?.commit, first);

      started = Date.now();
      await apiserver.restart();
      timings.push(`restart ${Date.now() - started} ms`);
      liveAfterApplyKill = await liveVersions(api, fixture.namespace);
      const atNew = liveAfterApplyKill['2'] ?? 0;
      // Requests in flight when it died may have been written without an answer: at least what the record says.
      assert.ok(atNew >= reached && atNew < COUNT, `live ${JSON.stringify(liveAfterApplyKill)}`);
      assert.equal((liveAfterApplyKill['1'] ?? 0) + atNew, COUNT);
      assert.notEqual((await fixture.store.get(key))?.sync.status, 'Synced', 'half-applied, not Synced');

      // Attempt 3: the apiserver is back; the whole revision is applied.
      finalRecord = await deploy(job, deps);
    } finally {
      seen = await watcher.stop();
    }
    assert.equal(finalRecord.result, 'succeeded', finalRecord.message);
    assert.equal(finalRecord.commit, second);
    // The retry went over the whole revision: what the cut apply had written is found unchanged, the rest applied.
    const retriedActions: Record<string, number> = {};
    for (const o of finalRecord.objects) retriedActions[o.action] = (retriedActions[o.action] ?? 0) + 1;
    const written = liveAfterApplyKill['2'] ?? 0;
    assert.deepEqual(retriedActions, { unchanged: written, configured: COUNT - written });
    assert.deepEqual(await liveVersions(api, fixture.namespace), { '2': COUNT });
    const state = await fixture.store.get(key);
    assert.equal(state?.sync.status, 'Synced');
    assert.equal(state?.sync.commit, second);
    assert.equal(state?.lastApplied?.commit, second);
    assert.equal(state?.lastApplied?.deploymentId, finalRecord.id);
    const records = (await fixture.store.listDeployments(key, 10)).reverse();
    assert.deepEqual(
      records.map((r) => [r.result, r.failure ?? '', r.commit === second ? 'v2' : 'v1']),
      [
        ['succeeded', '', 'v1'],
        ['failed', 'transient', 'v2'],
        ['failed', 'transient', 'v2'],
        ['succeeded', '', 'v2'],
      ],
    );
    // From the first fault until the last attempt succeeded, nothing said Synced.
    const synced = seen.filter((s) => s.status === 'Synced');
    assert.deepEqual(
      synced.map((s) => s.commit),
      [first, second],
      `statuses seen: ${JSON.stringify(seen.map((s) => [s.status, s.commit?.slice(0, 7)]))}`,
    );
    t.diagnostic(
      `${COUNT} ConfigMaps; ${timings.join('; ')}; ${reached} recorded at v2 when the apply was cut, live ${JSON.stringify(liveAfterApplyKill)}; ` +
        `statuses seen: ${seen.map((s) => s.status).join(' → ')}`,
    );
  });
});

describe('an API server that stops answering', () => {
  let apiserver: PrivateApiserver;
  let api: KubernetesApi;
  before(async () => {
    apiserver = await startPrivateApiserver();
    api = apiOf(apiserver);
  });
  after(async () => {
    apiserver?.resume();
    api?.close();
    await apiserver?.stop();
  });

  test('an API server that stops answering fails the deployment within the timeout and frees the lock', async (t) => {
    const REQUEST_TIMEOUT_MS = 1500;
    const BOUND_MS = 60_000;
    const timer = new FaultTimer(new KubernetesClusterConnector({ requestTimeoutMs: REQUEST_TIMEOUT_MS }));
    const { fixture, deps, key } = await privateFixture(apiserver, timer);
    await createNamespaces(api, [fixture.namespace]);
    const first = await fixture.workspace.commit(revision(20, '1'), 'v1');
    await fixture.workspace.push();
    const job = fixture.job(first);
    const timings: string[] = [];

    // Stopped before the deployment starts: its first request (discovery) is never answered.
    apiserver.pause();
    let attempt: Awaited<ReturnType<typeof transientAttempt>>;
    try {
      attempt = await transientAttempt(job, deps);
    } finally {
      apiserver.resume();
    }
    assert.ok(attempt.ms < BOUND_MS, `settled after ${attempt.ms} ms`);
    timings.push(`paused before: failed in ${attempt.ms} ms (${attempt.error.message.split('\n')[0]})`);
    let [record] = await fixture.store.listDeployments(key, 1);
    assert.equal(record?.result, 'failed');
    assert.equal(record?.failure, 'transient');
    assert.match(record?.message ?? '', /attempt failed, the job will be retried/);
    // It names the bound that ended it.
    assert.match(record?.message ?? '', new RegExp(`\\b${REQUEST_TIMEOUT_MS} ?ms\\b`));
    assert.equal(await fixture.store.lock(key, 'another-worker', 60), true, 'the lock was freed');
    await fixture.store.unlock(key, 'another-worker');

    // Stopped in the middle of applying: requests already sent on open connections are never answered.
    timer.arm('apply', 5, () => apiserver.pause());
    try {
      attempt = await transientAttempt(job, deps);
      assert.ok(timer.fired);
    } finally {
      apiserver.resume();
    }
    assert.ok(attempt.ms < BOUND_MS, `settled after ${attempt.ms} ms`);
    timings.push(`paused mid-apply: failed in ${attempt.ms} ms (${attempt.error.message.split('\n')[0]})`);
    [record] = await fixture.store.listDeployments(key, 1);
    assert.equal(record?.result, 'failed');
    assert.equal(record?.failure, 'transient');
    assert.ok(reachedOf(record) < 20, record?.message);
    const state = await fixture.store.get(key);
    assert.notEqual(state?.sync.status, 'Synced');
    assert.equal(await fixture.store.lock(key, 'another-worker', 60), true, 'the lock was freed');
    await fixture.store.unlock(key, 'another-worker');

    // Answering again, the retry succeeds.
    const retried = await deploy(job, deps);
    assert.equal(retried.result, 'succeeded', retried.message);
    assert.deepEqual(await liveVersions(api, fixture.namespace), { '1': 20 });
    assert.equal((await fixture.store.get(key))?.sync.status, 'Synced');
    t.diagnostic(timings.join('; '));
  });
});

/**
 * The state store, with the network between it and the worker reordering one thing: a lease renewal sent while
 * the deployment runs reaches the table only after the lease's release. Everything reaches the real table.
 */
class LateRenewals implements EnvironmentStore {
  readonly #inner: EnvironmentStore;
  readonly #held: (() => Promise<unknown>)[] = [];
  #renewalSent: () => void = () => undefined;
  /** Resolves when the first renewal has been sent (and held back). */
  readonly renewalSent = new Promise<void>((resolve) => {
    this.#renewalSent = resolve;
  });

  constructor(inner: EnvironmentStore) {
    this.#inner = inner;
  }

  get: EnvironmentStore['get'] = (key) => this.#inner.get(key);
  recordDeployment: EnvironmentStore['recordDeployment'] = (record, change) =>
    this.#inner.recordDeployment(record, change);
  appendHistory: EnvironmentStore['appendHistory'] = (record) => this.#inner.appendHistory(record);
  listDeployments: EnvironmentStore['listDeployments'] = (key, limit) =>
    this.#inner.listDeployments(key, limit);

  lock: EnvironmentStore['lock'] = (key, owner, ttlSeconds) => this.#inner.lock(key, owner, ttlSeconds);

  renew(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#held.push(() => this.#inner.renew(key, owner, ttlSeconds).then(resolve, reject));
      this.#renewalSent();
    });
  }

  async unlock(key: PartKey, owner: string): Promise<void> {
    await this.#inner.unlock(key, owner);
    await Promise.all(this.#held.splice(0).map((send) => send()));
  }
}

describe('the lease of a part', () => {
  test('a lease renewal that reaches the table after the release does not hold the part', async (t) => {
    const fixture = await deployFixture();
    const key: PartKey = { app: fixture.app, environment: 'staging', part: 'app' };
    const store = new LateRenewals(fixture.store);
    // The deployment lasts until its lease has been renewed once (a third of the lease, 20 s): its first
    // server-side apply waits for the renewal to be sent, at most a lease.
    const connector = new KubernetesClusterConnector();
    const slow: ClusterConnector = {
      connect: async (config) => {
        const cluster = await connector.connect(config);
        return {
          resourceType: (apiVersion, kind) => cluster.resourceType(apiVersion, kind),
          refreshResourceTypes: () => cluster.refreshResourceTypes(),
          get: (ref) => cluster.get(ref),
          list: (apiVersion, kind, namespace, labels) => cluster.list(apiVersion, kind, namespace, labels),
          delete: (ref) => cluster.delete(ref),
          apply: async (object, options) => {
            await Promise.race([store.renewalSent, sleep(LEASE_SECONDS * 1000, undefined, { ref: false })]);
            return cluster.apply(object, options);
          },
        };
      },
    };
    const commit = await fixture.workspace.commit({
      'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
      'deploy/cm.yaml': yaml(configMap('release', { v: '1' })),
    });
    await fixture.workspace.push();
    const started = Date.now();
    const record = await deploy(fixture.job(commit), { ...fixture.deps, store, clusters: slow });
    assert.equal(record.result, 'succeeded', record.message);
    t.diagnostic(
      `deployment of ${Date.now() - started} ms, its lease renewed once, the renewal landing late`,
    );
    assert.equal(
      await fixture.store.lock(key, 'another-worker', LEASE_SECONDS),
      true,
      'the finished deployment still holds the part',
    );
  });
});
