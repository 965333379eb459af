// Sync waves on the test bed: each wave applied and Current before the next, pruned in reverse.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, namespace as namespaceObject, yaml } from '../support/manifests.ts';
import { createdAt, finishedAt, job } from '../support/ordering.ts';
import { NEVER_READY, RUN_SECONDS, simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

type Live = Parameters<typeof createdAt>[0];
const get = (path: string) => api.request<Live>({ method: 'GET', path }).catch(() => undefined);
const inWave = <T extends { metadata: object }>(wave: number, object: T): T => ({
  ...object,
  metadata: { ...object.metadata, annotations: { 'ferry.dev/wave': String(wave) } },
});
const names = (objects: readonly { object: string; action: string }[], namespace: string) =>
  objects.map((o) => `${o.object.replace(`${namespace}/`, '')} ${o.action}`);

describe('ordering: waves', () => {
  test('waves apply in order, each Current before the next starts', async () => {
    const fixture = await deployFixture();
    const { namespace, workspace } = fixture;
    const rollouts = simulateRollouts(api, namespace);
    try {
      const commit = await workspace.commit({
        'deploy/ns.yaml': yaml(namespaceObject(namespace)),
        'deploy/a.yaml': yaml(inWave(1, configMap('last', { wave: '1' }))),
        'deploy/b.yaml': yaml(
          job('setup', { [RUN_SECONDS]: '2' }),
          deployment('web', 'nginx:1.27'),
          inWave(-1, configMap('first', { wave: '-1' })),
        ),
      });
      await workspace.push();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'succeeded', record.message);
      const order = names(record.objects, namespace);
      assert.deepEqual(order.slice(0, 2), [`Namespace ${namespace} created`, 'ConfigMap first created']);
      assert.deepEqual(order.slice(2, 4).sort(), ['Deployment web created', 'Job setup created']);
      assert.deepEqual(order.slice(4), ['ConfigMap last created']);
      const [first, setup, last] = await Promise.all([
        get(`/api/v1/namespaces/${namespace}/configmaps/first`),
        get(`/apis/batch/v1/namespaces/${namespace}/jobs/setup`),
        get(`/api/v1/namespaces/${namespace}/configmaps/last`),
      ]);
      assert.ok(first !== undefined && setup !== undefined && last !== undefined);
      assert.ok(createdAt(first) <= createdAt(setup));
      assert.ok(finishedAt(setup) <= createdAt(last), 'wave 1 came after wave 0 was Current');
      assert.ok(createdAt(last) - createdAt(setup) >= 2000, 'wave 1 waited for the Job of wave 0');
    } finally {
      await rollouts.stop();
    }
  });

  test('a wave that does not become Current stops the revision before the next wave', async () => {
    const fixture = await deployFixture({ healthTimeoutSeconds: 2 });
    const { namespace, workspace } = fixture;
    const rollouts = simulateRollouts(api, namespace);
    try {
      const commit = await workspace.commit({
        'deploy/ns.yaml': yaml(namespaceObject(namespace)),
        'deploy/app.yaml': yaml(
          deployment('stuck', 'nginx:1.27', { [NEVER_READY]: 'true' }),
          inWave(1, configMap('later', { a: '1' })),
        ),
      });
      await workspace.push();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'failed');
      assert.equal(record.failure, 'rejected');
      assert.match(record.message, /^wave 0 was not healthy after 2s, later waves not applied:/);
      assert.match(record.message, new RegExp(`Deployment ${namespace}/stuck: InProgress`));
      assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/later`), undefined);
    } finally {
      await rollouts.stop();
    }
  });

  test('pruning runs after the last wave, the last wave first', async () => {
    const fixture = await deployFixture();
    const { namespace, workspace } = fixture;
    const v1 = await workspace.commit({
      'deploy/ns.yaml': yaml(namespaceObject(namespace)),
      'deploy/app.yaml': yaml(
        configMap('kept', { a: '1' }),
        inWave(2, configMap('two', { a: '1' })),
        configMap('zero', { a: '1' }),
        inWave(1, configMap('one', { a: '1' })),
      ),
    });
    await workspace.push();
    assert.equal((await deploy(fixture.job(v1), fixture.deps)).result, 'succeeded');
    const v2 = await workspace.commit({
      'deploy/app.yaml': yaml(inWave(3, configMap('kept', { a: '2' }))),
    });
    await workspace.push();
    const record = await deploy(fixture.job(v2), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.deepEqual(names(record.objects, namespace), [
      `Namespace ${namespace} unchanged`,
      'ConfigMap kept configured',
      'ConfigMap two pruned',
      'ConfigMap one pruned',
      'ConfigMap zero pruned',
    ]);
  });
});
