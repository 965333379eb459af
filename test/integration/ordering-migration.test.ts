// Manifests written for Argo CD or Helm deploy in order on the test bed: Argo CD's sync waves and hooks as
// aliases of Ferry's, a Helm chart's hooks (rendered by the layer's helm) run at their phase, out of the inventory.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, namespace as namespaceObject, yaml } from '../support/manifests.ts';
import { appliedAt, createdAt, finishedAt, job } from '../support/ordering.ts';
import { RUN_SECONDS, simulateRollouts } from '../support/rollout.ts';
import { createNamespaces, testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

type Live = Parameters<typeof appliedAt>[0] & { metadata: { uid: string } };
const get = (path: string) => api.request<Live>({ method: 'GET', path }).catch(() => undefined);
const annotated = <T extends { metadata: object }>(annotations: Record<string, string>, object: T): T => ({
  ...object,
  metadata: { ...object.metadata, annotations },
});
/** A hook's name without the suffix of its deployment (hooks that are not deleted before they are created). */
const unsuffixed = (name: string) => name.replace(/-[0-9a-f]{8}$/, '');

/** One revision, its ordering told by `as` (Ferry's annotations or Argo CD's). */
function revision(namespace: string, as: 'ferry' | 'argocd') {
  const argo = as === 'argocd';
  const wave = (n: number) =>
    argo ? { 'argocd.argoproj.io/sync-wave': String(n) } : { 'ferry.dev/wave': String(n) };
  const hook = (phase: 'pre-sync' | 'post-sync', policy: 'before-create' | 'on-success') =>
    argo
      ? {
          'argocd.argoproj.io/hook': phase === 'pre-sync' ? 'PreSync' : 'PostSync',
          'argocd.argoproj.io/hook-delete-policy':
            policy === 'before-create' ? 'BeforeHookCreation' : 'HookSucceeded',
        }
      : { 'ferry.dev/hook': phase, 'ferry.dev/hook-delete-policy': policy };
  return {
    'deploy/ns.yaml': yaml(namespaceObject(namespace)),
    'deploy/app.yaml': yaml(
      annotated(wave(-1), configMap('settings', { a: '1' })),
      deployment('web', 'nginx:1.27'),
      annotated(wave(1), configMap('after', { a: '1' })),
      job('migrate', { ...hook('pre-sync', 'before-create'), [RUN_SECONDS]: '1' }),
      job('smoke', hook('post-sync', 'on-success')),
    ),
  };
}

describe('ordering: manifests from Argo CD and Helm', () => {
  test('Argo CD-annotated manifests deploy the same as Ferry-annotated ones', async () => {
    const runs = await Promise.all(
      (['ferry', 'argocd'] as const).map(async (as) => {
        const fixture = await deployFixture();
        const rollouts = simulateRollouts(api, fixture.namespace);
        try {
          await fixture.workspace.commit(revision(fixture.namespace, as));
          await fixture.workspace.push();
          const commit = (await fixture.workspace.git('rev-parse', 'HEAD')).trim();
          const record = await deploy(fixture.job(commit), fixture.deps);
          assert.equal(record.result, 'succeeded', `${as}: ${record.message}`);
          const ns = fixture.namespace;
          const [migrate, web, after, smoke] = await Promise.all([
            get(`/apis/batch/v1/namespaces/${ns}/jobs/migrate`),
            get(`/apis/apps/v1/namespaces/${ns}/deployments/web`),
            get(`/api/v1/namespaces/${ns}/configmaps/after`),
            get(`/apis/batch/v1/namespaces/${ns}/jobs/smoke`),
          ]);
          assert.ok(migrate !== undefined && web !== undefined && after !== undefined, as);
          assert.ok(finishedAt(migrate) <= appliedAt(web), `${as}: the pre-sync hook before the app`);
          assert.ok(appliedAt(web) <= createdAt(after), `${as}: wave 1 after wave 0`);
          assert.equal(smoke, undefined, `${as}: the post-sync hook was deleted once it succeeded`);
          const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
          return {
            order: record.objects.map((o) => `${unsuffixed(o.object).replace(ns, 'ns')} ${o.action}`),
            inventory: state?.inventory.map((e) => `${e.kind} ${e.name.replace(ns, 'ns')}`).sort(),
          };
        } finally {
          await rollouts.stop();
        }
      }),
    );
    const [ferry, argocd] = runs;
    assert.deepEqual(argocd, ferry);
    assert.deepEqual(ferry?.order, [
      'Namespace ns created',
      'Job ns/migrate hook-succeeded',
      'ConfigMap ns/settings created',
      'Deployment ns/web created',
      'ConfigMap ns/after created',
      'Job ns/smoke hook-succeeded',
    ]);
  });

  test('a Helm chart runs its hooks at their phase, in weight order, and keeps them out of the inventory', async () => {
    const fixture = await deployFixture({ helm: { releaseName: 'shop' } }, 'chart');
    const { namespace, workspace } = fixture;
    await createNamespaces(api, [namespace]);
    const rollouts = simulateRollouts(api, namespace);
    const hookJob = (name: string, hook: Record<string, string>) =>
      yaml(job(name, { ...hook, [RUN_SECONDS]: '1' })).replace(
        `name: ${name}`,
        `name: {{ .Release.Name }}-${name}`,
      );
    try {
      await workspace.commit({
        'chart/Chart.yaml': yaml({ apiVersion: 'v2', name: 'shop', version: '1.0.0' }),
        'chart/values.yaml': yaml({ image: 'nginx:1.27' }),
        'chart/templates/web.yaml': yaml(deployment('web', 'IMAGE')).replace('IMAGE', '{{ .Values.image }}'),
        'chart/templates/migrate.yaml': hookJob('migrate', {
          'helm.sh/hook': 'pre-install,pre-upgrade',
          'helm.sh/hook-weight': '-5',
          'helm.sh/hook-delete-policy': 'before-hook-creation',
        }),
        'chart/templates/seed.yaml': hookJob('seed', {
          'helm.sh/hook': 'pre-install',
          'helm.sh/hook-weight': '5',
          'helm.sh/hook-delete-policy': 'hook-succeeded',
        }),
        'chart/templates/notify.yaml': hookJob('notify', { 'helm.sh/hook': 'post-install,post-upgrade' }),
        'chart/templates/tests/connection.yaml': yaml({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'shop-test-connection', annotations: { 'helm.sh/hook': 'test' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'wget', image: 'busybox:1.37' }] },
        }),
      });
      await workspace.push();
      const commit = (await workspace.git('rev-parse', 'HEAD')).trim();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'succeeded', record.message);
      assert.deepEqual(
        record.objects.map((o) => `${unsuffixed(o.object).replace(`${namespace}/`, '')} ${o.action}`),
        [
          'Pod shop-test-connection skipped',
          'Job shop-migrate hook-succeeded',
          'Job shop-seed hook-succeeded',
          'Deployment web created',
          'Job shop-notify hook-succeeded',
        ],
      );
      assert.match(record.objects[0]?.message ?? '', /helm\.sh\/hook: test: Ferry runs no such hook/);
      assert.match(record.objects[2]?.message ?? '', /deleted, on-success/);
      const path = (kind: string, name: string) => `/apis/${kind}/namespaces/${namespace}/${name}`;
      const [migrate, seed, web, notify, testPod] = await Promise.all([
        get(path('batch/v1', 'jobs/shop-migrate')),
        get(path('batch/v1', 'jobs/shop-seed')),
        get(path('apps/v1', 'deployments/web')),
        get(path('batch/v1', 'jobs/shop-notify')),
        get(`/api/v1/namespaces/${namespace}/pods/shop-test-connection`),
      ]);
      assert.ok(migrate !== undefined && web !== undefined && notify !== undefined);
      assert.equal(seed, undefined, 'hook-succeeded: deleted once it succeeded');
      assert.equal(testPod, undefined, 'the test hook is never applied');
      assert.ok(appliedAt(web) - finishedAt(migrate) >= 1000, 'the seed (weight 5) ran after the migration');
      assert.ok(createdAt(notify) >= appliedAt(web), 'the post-install hook after the app');
      const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
      assert.deepEqual(
        state?.inventory.map((e) => `${e.kind} ${e.name}`),
        ['Deployment web'],
      );

      await workspace.commit({ 'chart/values.yaml': yaml({ image: 'nginx:1.28' }) });
      await workspace.push();
      const upgrade = await deploy(
        fixture.job((await workspace.git('rev-parse', 'HEAD')).trim()),
        fixture.deps,
      );
      assert.equal(upgrade.result, 'succeeded', upgrade.message);
      assert.deepEqual(
        upgrade.objects.map((o) => `${o.object.replace(`${namespace}/`, '')} ${o.action}`),
        [
          'Pod shop-test-connection skipped',
          'Job shop-seed skipped',
          'Job shop-migrate hook-succeeded',
          'Deployment web configured',
          'Job shop-notify hook-succeeded',
        ],
        'an upgrade runs the pre-upgrade and post-upgrade hooks, not the pre-install seed',
      );
      const again = await get(path('batch/v1', 'jobs/shop-migrate'));
      assert.notEqual(again?.metadata.uid, migrate.metadata.uid, 'the hook was created afresh');
    } finally {
      await rollouts.stop();
    }
  });
});
