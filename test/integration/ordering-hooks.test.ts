// Hook Jobs on the test bed, whose Job controller the tests play: pre-sync hooks before the app changes,
// post-sync hooks after it is healthy, sync-fail hooks after a failure; never in the inventory.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, namespace as namespaceObject, yaml } from '../support/manifests.ts';
import { actionsOf, appliedAt, createdAt, finishedAt, job } from '../support/ordering.ts';
import { FAIL, FAIL_MESSAGE, RUN_SECONDS, simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

type Live = Parameters<typeof appliedAt>[0] & {
  metadata: { resourceVersion: string };
  spec?: { template?: { spec?: { containers?: { image: string }[] } } };
};
const get = (path: string) => api.request<Live>({ method: 'GET', path }).catch(() => undefined);
const key = (fixture: { app: string }) =>
  ({ app: fixture.app, environment: 'staging', part: 'app' }) as const;

describe('ordering: hooks', () => {
  test('a pre-sync migration Job runs and completes before the Deployment changes', async () => {
    const fixture = await deployFixture();
    const { namespace, workspace } = fixture;
    const rollouts = simulateRollouts(api, namespace);
    try {
      /** The migration of a release: its pod template, immutable once the Job exists, changes with each. */
      const migrate = (release: string) => {
        const hook = job('migrate', { 'ferry.dev/hook': 'pre-sync', [RUN_SECONDS]: '2' });
        const [container] = hook.spec.template.spec.containers;
        return {
          ...hook,
          spec: {
            ...hook.spec,
            template: {
              ...hook.spec.template,
              spec: {
                ...hook.spec.template.spec,
                containers: [{ ...container, args: ['migrate', release] }],
              },
            },
          },
        };
      };
      await workspace.commit({
        'deploy/ns.yaml': yaml(namespaceObject(namespace)),
        'deploy/app.yaml': yaml(deployment('web', 'nginx:1.27'), migrate('v1')),
      });
      await workspace.push();
      const first = await deploy(fixture.job(await workspace.commit({}, 'v1')), fixture.deps);
      assert.equal(first.result, 'succeeded', first.message);
      assert.equal(actionsOf(first, namespace)['Job ns/migrate'], 'hook-succeeded');
      const commit = await workspace.commit({
        'deploy/app.yaml': yaml(deployment('web', 'nginx:1.28'), migrate('v2')),
      });
      await workspace.push();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'succeeded', record.message);
      assert.deepEqual(
        record.objects.map((o) => [o.object.replace(`${namespace}/`, 'ns/'), o.action]),
        [
          ['Job ns/migrate', 'hook-succeeded'],
          [`Namespace ${namespace}`, 'unchanged'],
          ['Deployment ns/web', 'configured'],
        ],
        'the hook first, then the app',
      );
      const web = await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`);
      const hook = await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`);
      assert.ok(web !== undefined && hook !== undefined);
      assert.equal(web.spec?.template?.spec?.containers?.[0]?.image, 'nginx:1.28');
      assert.deepEqual(
        (hook.spec?.template?.spec?.containers?.[0] as { args?: string[] } | undefined)?.args,
        ['migrate', 'v2'],
        'the last deployment’s Job, whose template cannot change, did not fail validation: it was created afresh',
      );
      assert.ok(finishedAt(hook) <= appliedAt(web), 'the Job completed before the Deployment changed');
      assert.ok(
        appliedAt(web) - createdAt(hook) >= 2000,
        'the Deployment changed only after the two seconds the Job ran',
      );
      const state = await fixture.store.get(key(fixture));
      assert.deepEqual(
        state?.inventory.map((e) => e.kind).sort(),
        ['Deployment', 'Namespace'],
        'the hook is not in the inventory',
      );
    } finally {
      await rollouts.stop();
    }
  });

  test('a failing pre-sync Job leaves every app object untouched and the record names it', async () => {
    const fixture = await deployFixture();
    const { namespace, workspace } = fixture;
    const rollouts = simulateRollouts(api, namespace);
    try {
      const v1 = await workspace.commit({
        'deploy/ns.yaml': yaml(namespaceObject(namespace)),
        'deploy/app.yaml': yaml(deployment('web', 'nginx:1.27'), configMap('settings', { mode: 'one' })),
      });
      await workspace.push();
      assert.equal((await deploy(fixture.job(v1), fixture.deps)).result, 'succeeded');
      const paths = [
        `/api/v1/namespaces/${namespace}`,
        `/apis/apps/v1/namespaces/${namespace}/deployments/web`,
        `/api/v1/namespaces/${namespace}/configmaps/settings`,
      ];
      const versions = async () =>
        Promise.all(paths.map(async (p) => (await get(p))?.metadata.resourceVersion));
      const before = await versions();
      const failing = job('migrate', {
        'ferry.dev/hook': 'pre-sync',
        [FAIL]: 'true',
        [FAIL_MESSAGE]: 'relation "users" already exists',
      });
      const notify = job('notify', { 'ferry.dev/hook': 'sync-fail' });
      const v2 = await workspace.commit({
        'deploy/app.yaml': yaml(
          deployment('web', 'nginx:1.28'),
          configMap('settings', { mode: 'two' }),
          configMap('added', { a: '1' }),
          failing,
          notify,
        ),
      });
      await workspace.push();
      const record = await deploy(fixture.job(v2), fixture.deps);
      assert.equal(record.result, 'failed');
      assert.equal(record.failure, 'rejected');
      assert.match(record.message, /^pre-sync hook failed, no app object changed:/);
      assert.match(record.message, new RegExp(`Job ${namespace}/migrate: pre-sync hook failed`));
      assert.match(
        record.message,
        /Failed \(BackoffLimitExceeded\): Job has reached the specified backoff limit/,
      );
      assert.match(
        record.message,
        /pod migrate-\w+ Failed: container main terminated: Error \(exit code 1\): relation "users" already exists/,
      );
      assert.deepEqual(await versions(), before, 'no app object changed');
      assert.equal(
        await get(`/api/v1/namespaces/${namespace}/configmaps/added`),
        undefined,
        'nothing created',
      );
      const actions = actionsOf(record, namespace);
      assert.equal(actions['Job ns/migrate'], 'hook-failed');
      assert.equal(actions['Job ns/notify'], 'hook-succeeded', 'the sync-fail hook ran');
      assert.equal(actions['Deployment ns/web'], undefined);
      const state = await fixture.store.get(key(fixture));
      assert.equal(state?.lastApplied?.commit, v1);
      assert.equal(state?.sync.status, 'Failed');
    } finally {
      await rollouts.stop();
    }
  });

  test('a failed post-sync hook fails the deployment after the app applied, and runs the sync-fail hooks', async () => {
    const fixture = await deployFixture();
    const { namespace, workspace } = fixture;
    const rollouts = simulateRollouts(api, namespace);
    try {
      const commit = await workspace.commit({
        'deploy/ns.yaml': yaml(namespaceObject(namespace)),
        'deploy/app.yaml': yaml(
          deployment('web', 'nginx:1.27'),
          job('smoke', { 'ferry.dev/hook': 'post-sync', [FAIL]: 'true' }),
          job('rollback-alert', { 'ferry.dev/hook': 'sync-fail' }),
        ),
      });
      await workspace.push();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'failed');
      assert.equal(record.failure, 'rejected');
      assert.match(
        record.message,
        new RegExp(`post-sync hook failed:\\n- Job ${namespace}/smoke: post-sync hook failed`),
      );
      assert.deepEqual(
        record.objects.map((o) => [o.object.replace(`${namespace}/`, 'ns/'), o.action]),
        [
          [`Namespace ${namespace}`, 'created'],
          ['Deployment ns/web', 'created'],
          ['Job ns/smoke', 'hook-failed'],
          ['Job ns/rollback-alert', 'hook-succeeded'],
        ],
      );
      const smoke = await get(`/apis/batch/v1/namespaces/${namespace}/jobs/smoke`);
      const web = await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`);
      assert.ok(smoke !== undefined && web !== undefined);
      assert.ok(createdAt(smoke) >= appliedAt(web), 'the post-sync hook came after the app');
      const state = await fixture.store.get(key(fixture));
      assert.equal(state?.lastApplied?.commit, commit, 'the app objects are recorded as applied');
      assert.deepEqual(state?.inventory.map((e) => e.kind).sort(), ['Deployment', 'Namespace']);
      assert.equal(state?.sync.status, 'Failed');
    } finally {
      await rollouts.stop();
    }
  });
});
