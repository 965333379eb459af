// Convergence on the test bed: heals that repeat, pins that hold, ignored fields that are not fought, a
// deletion budget, redeliveries, and parallel deployments of one repository.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { createJob, type JobTrigger } from '../../functions/core/model/job.ts';
import { receiveAll } from '../support/aws.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { firstDeploy, keyOf, reconcileFixture, runQueuedJobs } from '../support/reconcile.ts';
import { simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

const manual = (pin: boolean, overrideDeletionBudget = false): JobTrigger => ({
  kind: 'manual',
  requestedBy: 'tests',
  pin,
  overrideDeletionBudget,
});
const cm = (ns: string, name: string) =>
  api
    .request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
    })
    .catch(() => undefined);
const deploymentPath = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments/web`;
const replicasOf = async (ns: string) =>
  (await api.request<{ spec: { replicas: number } }>({ method: 'GET', path: deploymentPath(ns) })).spec
    .replicas;
const scaleTo = (ns: string, replicas: number) =>
  api.request({
    method: 'PATCH',
    path: `${deploymentPath(ns)}/scale`,
    body: { spec: { replicas } },
    contentType: 'application/merge-patch+json',
  });

describe('convergence: pull mode', () => {
  test('a second drift after a heal is healed at the next check', async () => {
    const fixture = await reconcileFixture({ selfHeal: true });
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    for (const round of [1, 2, 3]) {
      await api.request({
        method: 'DELETE',
        path: `/api/v1/namespaces/${fixture.namespace}/configmaps/settings`,
      });
      const check = await fixture.check();
      assert.equal(check.action, 'heal', `round ${round}: ${check.message}`);
      assert.equal(
        (await fixture.store.get(keyOf(fixture)))?.sync.status,
        'OutOfSync',
        'never Synced while drifted',
      );
      const jobs = await runQueuedJobs(fixture);
      assert.equal(jobs.length, 1, `round ${round}: the heal was enqueued, not deduplicated away`);
      assert.equal((await cm(fixture.namespace, 'settings'))?.data?.v, '1', `round ${round}: healed`);
    }
    assert.equal((await fixture.check()).action, 'none');
  });

  test('a heal enqueued and not yet run is reported as already queued, not sent again', async () => {
    const fixture = await reconcileFixture({ selfHeal: true });
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    await api.request({
      method: 'DELETE',
      path: `/api/v1/namespaces/${fixture.namespace}/configmaps/settings`,
    });
    assert.equal((await fixture.check()).action, 'heal');
    const again = await fixture.check();
    assert.equal(again.action, 'queued', again.message);
    assert.equal((await runQueuedJobs(fixture)).length, 1);
  });

  test('drift is checked and reported while a newer commit waits (autoSync off)', async () => {
    const fixture = await reconcileFixture({ autoSync: false });
    await firstDeploy(fixture, {
      'deploy/cm.yaml': yaml(configMap('settings', { v: '1' }), configMap('b', { v: '1' })),
    });
    await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('settings', { v: '2' }), configMap('b', { v: '1' })),
    });
    await fixture.workspace.push();
    await api.request({ method: 'DELETE', path: `/api/v1/namespaces/${fixture.namespace}/configmaps/b` });
    const check = await fixture.check();
    assert.equal(check.action, 'out-of-sync', check.message);
    assert.deepEqual(
      check.drifted.map((d) => [d.object, d.reason]),
      [[`ConfigMap ${fixture.namespace}/b`, 'missing']],
    );
    assert.match(check.message, /refs\/heads\/main is at .*1 object\(s\) drifted/);
    assert.equal((await fixture.store.get(keyOf(fixture)))?.sync.status, 'OutOfSync');
  });

  test('a pin survives ten reconcile ticks, still heals to the pinned commit, and resume releases it', async () => {
    const fixture = await reconcileFixture({ selfHeal: true });
    const good = await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: 'good' })) });
    const broken = await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('settings', { v: 'broken' })),
    });
    await fixture.workspace.push();
    assert.equal((await deploy(fixture.job(broken), fixture.deps)).result, 'succeeded');
    const rollback = await deploy(fixture.job(good, { trigger: manual(true) }), fixture.deps);
    assert.equal(rollback.result, 'succeeded', rollback.message);
    for (let tick = 1; tick <= 10; tick++) {
      const check = await fixture.check();
      assert.equal(check.action, 'pinned', `tick ${tick}: ${check.message}`);
      assert.match(
        check.message,
        new RegExp(`pinned at ${good.slice(0, 12)} by tests; refs/heads/main is at ${broken.slice(0, 12)}`),
      );
      assert.deepEqual(await receiveAll(fixture.queueUrl), [], `tick ${tick}: nothing deployed over the pin`);
      // A push of the broken head while pinned is skipped by the worker too.
      if (tick === 5) assert.equal((await deploy(fixture.job(broken), fixture.deps)).result, 'skipped');
    }
    const state = await fixture.store.get(keyOf(fixture));
    assert.equal(state?.pin?.commit, good);
    assert.equal(state?.sync.status, 'OutOfSync');
    assert.equal((await cm(fixture.namespace, 'settings'))?.data?.v, 'good');

    await api.request({
      method: 'DELETE',
      path: `/api/v1/namespaces/${fixture.namespace}/configmaps/settings`,
    });
    assert.equal((await fixture.check()).action, 'heal');
    await runQueuedJobs(fixture);
    assert.equal((await cm(fixture.namespace, 'settings'))?.data?.v, 'good', 'healed to the pinned commit');

    const resumed = await deploy(fixture.job(broken, { trigger: manual(false) }), fixture.deps);
    assert.equal(resumed.result, 'succeeded', resumed.message);
    assert.equal((await fixture.store.get(keyOf(fixture)))?.pin, undefined);
    assert.equal((await cm(fixture.namespace, 'settings'))?.data?.v, 'broken', 'back at the branch head');
    assert.equal((await fixture.check()).action, 'none');
  });
});

describe('convergence: apply', () => {
  test('an ignored replicas field survives both a heal and a new-commit deploy', async () => {
    const fixture = await reconcileFixture({
      selfHeal: true,
      ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
    });
    const rollouts = simulateRollouts(api, fixture.namespace);
    try {
      await firstDeploy(fixture, { 'deploy/web.yaml': yaml(deployment('web', 'nginx:1.27')) });
      await scaleTo(fixture.namespace, 5);
      await api.request({
        method: 'PATCH',
        path: deploymentPath(fixture.namespace),
        body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:hacked' }] } } } },
        contentType: 'application/strategic-merge-patch+json',
      });
      const check = await fixture.check();
      assert.equal(check.action, 'heal', check.message);
      await runQueuedJobs(fixture);
      assert.equal(await replicasOf(fixture.namespace), 5, 'the heal kept the HPA-set replicas');
      const next = await fixture.workspace.commit({
        'deploy/web.yaml': yaml(deployment('web', 'nginx:1.28')),
      });
      await fixture.workspace.push();
      const record = await deploy(fixture.job(next), fixture.deps);
      assert.equal(record.result, 'succeeded', record.message);
      assert.equal(await replicasOf(fixture.namespace), 5, 'a new commit kept them too');
      const live = await api.request<{ spec: { template: { spec: { containers: { image: string }[] } } } }>({
        method: 'GET',
        path: deploymentPath(fixture.namespace),
      });
      assert.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.28');
    } finally {
      await rollouts.stop();
    }
  });

  test('a deployment over the deletion budget prunes nothing; an override prunes', async () => {
    const fixture = await deployFixture({ deletionBudget: 2 });
    const five = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((name) => [`deploy/${name}.yaml`, yaml(configMap(name, { v: '1' }))]),
    );
    const first = await fixture.workspace.commit({
      ...five,
      'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
    });
    await fixture.workspace.push();
    assert.equal((await deploy(fixture.job(first), fixture.deps)).result, 'succeeded');
    const fewer = await fixture.workspace.commit({
      'deploy/b.yaml': null,
      'deploy/c.yaml': null,
      'deploy/d.yaml': null,
    });
    await fixture.workspace.push();
    const refused = await deploy(fixture.job(fewer), fixture.deps);
    assert.equal(refused.result, 'failed');
    assert.equal(refused.failure, 'rejected');
    assert.match(refused.message, /would prune 3 object\(s\), over the deletion budget of 2/);
    for (const name of ['b', 'c', 'd']) {
      assert.match(refused.message, new RegExp(`ConfigMap ${fixture.namespace}/${name}`));
      assert.notEqual(await cm(fixture.namespace, name), undefined, `${name} is not pruned`);
    }
    const again = await deploy(fixture.job(fewer), fixture.deps);
    assert.equal(again.result, 'skipped', 'a rejected commit is not tried again by a push');
    const forced = await deploy(fixture.job(fewer, { trigger: manual(false, true) }), fixture.deps);
    assert.equal(forced.result, 'succeeded', forced.message);
    assert.equal(await cm(fixture.namespace, 'c'), undefined);
  });

  test('a job delivered again after it was recorded writes no second record and moves nothing', async () => {
    const fixture = await deployFixture();
    const commit = await fixture.workspace.commit({
      'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
      'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })),
    });
    await fixture.workspace.push();
    const job = fixture.job(commit);
    const first = await deploy(job, fixture.deps);
    assert.equal(first.result, 'succeeded');
    const again = await deploy(job, fixture.deps);
    assert.equal(again.result, 'duplicate');
    const history = await fixture.store.listDeployments(keyOf(fixture), 10);
    assert.deepEqual(
      history.map((d) => d.id),
      [first.id],
    );
    assert.equal((await fixture.store.get(keyOf(fixture)))?.lastApplied?.deploymentId, first.id);
  });

  test('parallel deployments of four environments of one repository never fail on the Git cache', async () => {
    const environments = ['one', 'two', 'three', 'four'];
    const fixture = await deployFixture();
    const config = {
      ...fixture.deps.config,
      apps: [
        {
          ...(fixture.deps.config.apps[0] as (typeof fixture.deps.config.apps)[number]),
          environments: environments.map((name) => ({
            ...(fixture.deps.config.apps[0]
              ?.environments[0] as (typeof fixture.deps.config.apps)[number]['environments'][number]),
            name,
            namespace: `${fixture.namespace}-${name}`,
          })),
        },
      ],
    };
    const deps = { ...fixture.deps, config };
    const namespaces = environments.map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `${fixture.namespace}-${name}` },
    }));
    await fixture.workspace.commit({ 'deploy/ns.yaml': yaml(...namespaces) });
    for (let round = 1; round <= 5; round++) {
      const commit = await fixture.workspace.commit({
        'deploy/cm.yaml': yaml(configMap('release', { v: String(round) })),
      });
      await fixture.workspace.push();
      const records = await Promise.all(
        environments.map((environment) =>
          deploy(
            createJob(
              { app: fixture.app, environment, part: 'app' },
              { ref: 'refs/heads/main', commit },
              {
                kind: 'push',
                deliveryId: uniqueName('delivery'),
                provider: 'github',
              },
            ),
            deps,
          ),
        ),
      );
      for (const record of records)
        assert.equal(record.result, 'succeeded', `round ${round}: ${record.message}`);
    }
    for (const name of environments)
      assert.equal((await cm(`${fixture.namespace}-${name}`, 'release'))?.data?.v, '5');
  });
});
