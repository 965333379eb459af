// The worker's engine end to end: a real Git server, a real apiserver and moto's DynamoDB and Secrets Manager.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, service, WIDGET_SCHEMA, widgetCrd, yaml } from '../support/manifests.ts';
import { NEVER_READY, simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

type Live = {
  metadata: { resourceVersion: string; labels?: Record<string, string> };
  data?: Record<string, string>;
};
const get = (path: string) => api.request<Live>({ method: 'GET', path }).catch(() => undefined);
/** A manual deploy that pins its commit, as `ferry deploy <sha>` sends. */
const pinned = { kind: 'manual', requestedBy: 'tests', pin: true, overrideDeletionBudget: false } as const;
const actions = (record: DeploymentRecord) =>
  Object.fromEntries(record.objects.map((o) => [o.object, o.action]));

describe('deploy: plain YAML', () => {
  let fixture: Awaited<ReturnType<typeof deployFixture>>;
  let rollouts: { stop(): Promise<void> };
  before(async () => {
    fixture = await deployFixture();
    rollouts = simulateRollouts(api, fixture.namespace);
  });
  after(() => rollouts.stop());

  test('a first deploy creates every object, waits for health and records the revision', async () => {
    const { namespace, workspace } = fixture;
    const commit = await workspace.commit({
      'deploy/namespace.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }),
      'deploy/app.yaml': yaml(deployment('web', 'nginx:1.27'), service('web')),
      'deploy/config/settings.yaml': yaml(
        configMap('settings', { mode: 'one' }),
        configMap('extra', { a: '1' }),
      ),
    });
    await workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.deepEqual(actions(record), {
      [`Namespace ${namespace}`]: 'created',
      [`Deployment ${namespace}/web`]: 'created',
      [`Service ${namespace}/web`]: 'created',
      [`ConfigMap ${namespace}/settings`]: 'created',
      [`ConfigMap ${namespace}/extra`]: 'created',
    });
    const live = await get(`/api/v1/namespaces/${namespace}/configmaps/settings`);
    assert.equal(live?.metadata.labels?.['ferry.dev/app'], fixture.app);
    const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
    assert.equal(state?.lastApplied?.commit, commit);
    assert.equal(state?.inventory.length, 5);
    assert.equal(state?.sync.status, 'Synced');
    const [history] = await fixture.store.listDeployments(
      { app: fixture.app, environment: 'staging', part: 'app' },
      5,
    );
    assert.equal(history?.id, record.id);
  });

  test('a commit changing one object configures only it; the others keep their resourceVersion', async () => {
    const { namespace, workspace } = fixture;
    const before = await get(`/api/v1/namespaces/${namespace}/configmaps/extra`);
    const beforeService = await get(`/api/v1/namespaces/${namespace}/services/web`);
    const commit = await workspace.commit({
      'deploy/config/settings.yaml': yaml(
        configMap('settings', { mode: 'two' }),
        configMap('extra', { a: '1' }),
      ),
    });
    await workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.equal(actions(record)[`ConfigMap ${namespace}/settings`], 'configured');
    assert.equal(actions(record)[`ConfigMap ${namespace}/extra`], 'unchanged');
    assert.equal(actions(record)[`Deployment ${namespace}/web`], 'unchanged');
    assert.equal((await get(`/api/v1/namespaces/${namespace}/configmaps/settings`))?.data?.mode, 'two');
    assert.equal(
      (await get(`/api/v1/namespaces/${namespace}/configmaps/extra`))?.metadata.resourceVersion,
      before?.metadata.resourceVersion,
    );
    assert.equal(
      (await get(`/api/v1/namespaces/${namespace}/services/web`))?.metadata.resourceVersion,
      beforeService?.metadata.resourceVersion,
    );
  });

  test('a bad manifest among good ones applies nothing and lists every rejection', async () => {
    const { namespace, workspace } = fixture;
    const commit = await workspace.commit({
      'deploy/config/settings.yaml': yaml(
        configMap('settings', { mode: 'three' }),
        configMap('extra', { a: '1' }),
      ),
      'deploy/bad.yaml': yaml(
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'broken' },
          spec: { ports: [{ port: 'not-a-number' }] },
        },
        { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'unknown' } },
        { ...configMap('misspelt', { a: '1' }), dta: { b: '2' } },
      ),
    });
    await workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /^3 object\(s\) rejected, nothing applied/);
    assert.deepEqual(
      record.objects
        .filter((o) => o.action === 'failed')
        .map((o) => o.object)
        .sort(),
      [`ConfigMap ${namespace}/misspelt`, `Gizmo unknown`, `Service ${namespace}/broken`].sort(),
      'the record lists every rejected object',
    );
    assert.match(
      record.message,
      /Gizmo unknown: the cluster does not serve kind Gizmo .* no CRD in this revision defines it/,
    );
    assert.match(record.message, new RegExp(`Service ${namespace}/broken: .*port`));
    assert.match(
      record.message,
      new RegExp(`ConfigMap ${namespace}/misspelt: .*\\.dta: field not declared in schema`),
      'a field the schema does not declare is refused, named',
    );
    assert.equal(
      (await get(`/api/v1/namespaces/${namespace}/configmaps/settings`))?.data?.mode,
      'two',
      'nothing applied',
    );
    await workspace.commit({ 'deploy/bad.yaml': null });
    const fixed = await deploy(fixture.job(await workspace.commit({}, 'fix')), fixture.deps);
    assert.equal(
      fixed.result,
      'skipped',
      'the fix is not pushed yet: the branch head is the rejected commit',
    );
    assert.match(fixed.message, /was rejected; push a fix/);
    await workspace.push();
    const record2 = await deploy(
      fixture.job((await workspace.git('rev-parse', 'HEAD')).trim()),
      fixture.deps,
    );
    assert.equal(record2.result, 'succeeded', record2.message);
  });

  test('a commit removing an object prunes it; an object stripped of its labels by hand is kept', async () => {
    const { namespace, workspace } = fixture;
    await api.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${namespace}/services/web`,
      body: { metadata: { labels: { 'ferry.dev/app': null } } },
      contentType: 'application/merge-patch+json',
    });
    const commit = await workspace.commit({
      'deploy/config/settings.yaml': yaml(configMap('settings', { mode: 'three' })),
      'deploy/app.yaml': yaml(deployment('web', 'nginx:1.27')),
    });
    await workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.equal(actions(record)[`ConfigMap ${namespace}/extra`], 'pruned');
    assert.equal(actions(record)[`Service ${namespace}/web`], 'retained');
    assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/extra`), undefined);
    assert.notEqual(await get(`/api/v1/namespaces/${namespace}/services/web`), undefined);
  });

  test('a commit removing everything is refused and prunes nothing', async () => {
    const { namespace, workspace } = fixture;
    const commit = await workspace.commit({
      'deploy/namespace.yaml': null,
      'deploy/app.yaml': null,
      'deploy/config/settings.yaml': null,
      'deploy/README.md': 'nothing here\n',
    });
    await workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /rendered no objects.*allowEmpty/);
    assert.notEqual(await get(`/api/v1/namespaces/${namespace}/configmaps/settings`), undefined);
    const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
    assert.notEqual(state?.lastApplied?.commit, commit);
  });

  test('a job for an older commit finds the part at the branch head; a pinned deploy of it is applied', async () => {
    const { namespace, workspace } = fixture;
    const older = await workspace.commit({
      'deploy/README.md': null,
      'deploy/app.yaml': yaml(configMap('version', { v: 'old' })),
    });
    const newer = await workspace.commit({ 'deploy/app.yaml': yaml(configMap('version', { v: 'new' })) });
    await workspace.push();
    assert.equal((await deploy(fixture.job(newer), fixture.deps)).result, 'succeeded');
    const stale = await deploy(fixture.job(older), fixture.deps);
    assert.equal(stale.result, 'current', stale.message);
    assert.equal(stale.commit, newer);
    assert.equal((await get(`/api/v1/namespaces/${namespace}/configmaps/version`))?.data?.v, 'new');
    const rollback = await deploy(fixture.job(older, { trigger: pinned }), fixture.deps);
    assert.equal(rollback.result, 'succeeded', rollback.message);
    assert.equal((await get(`/api/v1/namespaces/${namespace}/configmaps/version`))?.data?.v, 'old');
  });
});

describe('deploy: ordering', () => {
  test('a CRD and its custom resource in one commit, the resource first in file order', async () => {
    const fixture = await deployFixture();
    const group = `${uniqueName('g')}.ferry.test`;
    const commit = await fixture.workspace.commit({
      'deploy/a-widget.yaml': yaml({
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size: 'large' },
      }),
      'deploy/b-namespace.yaml': yaml({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: fixture.namespace },
      }),
      'deploy/z-crd.yaml': yaml(widgetCrd(group)),
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    const crd = await api.request<{ spec: { versions: [{ schema: { openAPIV3Schema: unknown } }] } }>({
      method: 'GET',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`,
    });
    assert.deepEqual(
      crd.spec.versions[0].schema.openAPIV3Schema,
      WIDGET_SCHEMA,
      'schema keys reach the API server intact',
    );
    const widget = await api.request<{ spec: unknown }>({
      method: 'GET',
      path: `/apis/${group}/v1/namespaces/${fixture.namespace}/widgets/w`,
    });
    assert.deepEqual(widget.spec, { size: 'large' });
  });
});

describe('deploy: health and failures', () => {
  test('a Deployment that never becomes ready fails the deployment after the timeout, named', async () => {
    const fixture = await deployFixture({ healthTimeoutSeconds: 2 });
    const rollouts = simulateRollouts(api, fixture.namespace);
    try {
      const commit = await fixture.workspace.commit({
        'deploy/ns.yaml': yaml({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: fixture.namespace },
        }),
        'deploy/app.yaml': yaml(
          deployment('ok', 'nginx:1.27'),
          deployment('stuck', 'nginx:1.27', { [NEVER_READY]: 'true' }),
        ),
      });
      await fixture.workspace.push();
      const record = await deploy(fixture.job(commit), fixture.deps);
      assert.equal(record.result, 'failed');
      assert.match(
        record.message,
        new RegExp(`not healthy after 2s:\\nDeployment ${fixture.namespace}/stuck: InProgress`),
      );
      assert.doesNotMatch(record.message, /Deployment [^ ]+\/ok/);
      const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
      assert.equal(state?.sync.status, 'Failed');
    } finally {
      await rollouts.stop();
    }
  });

  test('a YAML error names the file and line', async () => {
    const fixture = await deployFixture();
    const commit = await fixture.workspace.commit({
      'deploy/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n',
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /render failed: deploy\/broken\.yaml:\d+:\d+: /);
  });

  test('a job for an environment no longer configured is recorded as failed, not retried', async () => {
    const fixture = await deployFixture();
    const job = { ...fixture.job('0123456789abcdef0123456789abcdef01234567'), environment: 'removed' };
    const record = await deploy(job, fixture.deps);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /no environment removed of app .* in the configuration/);
    const [history] = await fixture.store.listDeployments(
      { app: fixture.app, environment: 'removed', part: 'app' },
      1,
    );
    assert.equal(history?.id, record.id);
  });

  test('a commit that does not exist is a failed deployment with the reason', async () => {
    const fixture = await deployFixture();
    await fixture.workspace.commit({ 'deploy/cm.yaml': yaml(configMap('a', { b: 'c' })) });
    await fixture.workspace.push();
    const missing = '0123456789abcdef0123456789abcdef01234567';
    const record = await deploy(fixture.job(missing, { trigger: pinned }), fixture.deps);
    assert.equal(record.result, 'failed');
    assert.equal(record.failure, 'rejected');
    assert.match(record.message, /cannot fetch commit 0123456789abcdef/);
  });
});
