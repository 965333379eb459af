// Pull mode end to end: new commits found without a webhook, drift detected, healed or reported.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { checkEnvironment } from '../../functions/core/reconcile/check.ts';
import { receiveAll } from '../support/aws.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { firstDeploy, keyOf, reconcileFixture, runQueuedJobs } from '../support/reconcile.ts';
import { simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;

describe('pull mode: new commits', () => {
  test('a commit pushed without a webhook is found and deployed on the next check', async () => {
    const fixture = await reconcileFixture();
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    assert.equal((await fixture.check()).action, 'none');
    const second = await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('settings', { v: '2' })),
    });
    await fixture.workspace.push();
    const result = await fixture.check();
    assert.equal(result.action, 'deploy', result.message);
    assert.equal(result.headCommit, second);
    assert.equal(result.outOfSyncSince, result.at, 'OutOfSync until deployed');
    const jobs = await runQueuedJobs(fixture);
    assert.deepEqual(
      jobs.map((j) => [j.commit, j.trigger.kind]),
      [[second, 'reconcile']],
    );
    const live = await api.request<{ data: { v: string } }>({
      method: 'GET',
      path: cmPath(fixture.namespace, 'settings'),
    });
    assert.equal(live.data.v, '2');
    const synced = await fixture.check();
    assert.equal(synced.action, 'none', 'in sync afterwards');
    assert.equal(synced.outOfSyncSince, undefined);
  });

  test('with autoSync off a new commit is reported OutOfSync and not applied', async () => {
    const fixture = await reconcileFixture({ autoSync: false });
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    const second = await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('settings', { v: '2' })),
    });
    await fixture.workspace.push();
    const result = await fixture.check();
    assert.equal(result.action, 'out-of-sync');
    assert.match(result.message, new RegExp(`refs/heads/main is at ${second.slice(0, 12)}.*autoSync is off`));
    assert.deepEqual(await receiveAll(fixture.queueUrl), []);
    const state = await fixture.store.get(keyOf(fixture));
    assert.equal(state?.sync.status, 'OutOfSync');
    const live = await api.request<{ data: { v: string } }>({
      method: 'GET',
      path: cmPath(fixture.namespace, 'settings'),
    });
    assert.equal(live.data.v, '1');
    assert.equal(result.outOfSyncSince, result.at, 'OutOfSync since this check');
    const again = await fixture.check();
    assert.equal(again.action, 'out-of-sync');
    assert.ok(again.at > result.at);
    assert.equal(again.outOfSyncSince, result.at, 'still OutOfSync since the first check that found it so');
    assert.equal((await fixture.store.get(keyOf(fixture)))?.sync.at, result.at);
  });

  test('an environment configuration change deploys through its own switch', async () => {
    const fixture = await reconcileFixture({
      autoSync: false,
      config: { path: 'env/staging', autoSync: true },
    });
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('app', { v: '1' })) });
    const commit = await fixture.workspace.commit({
      'env/staging/ingress-config.yaml': yaml(configMap('environment', { host: 'staging.example.com' })),
    });
    await fixture.workspace.push();
    const configCheck = await fixture.check('config');
    assert.equal(configCheck.action, 'deploy', configCheck.message);
    const jobs = await runQueuedJobs(fixture);
    assert.deepEqual(
      jobs.map((j) => [j.part, j.commit]),
      [['config', commit]],
    );
    const live = await api.request<{ data: { host: string } }>({
      method: 'GET',
      path: cmPath(fixture.namespace, 'environment'),
    });
    assert.equal(live.data.host, 'staging.example.com');
    assert.equal((await fixture.check('app')).action, 'out-of-sync', 'the app part keeps its own switch');
  });
});

describe('pull mode: drift', () => {
  test('a Deployment image changed by hand is detected, and restored with selfHeal', async () => {
    const fixture = await reconcileFixture({ selfHeal: true });
    const rollouts = simulateRollouts(api, fixture.namespace);
    try {
      await firstDeploy(fixture, { 'deploy/web.yaml': yaml(deployment('web', 'nginx:1.27')) });
      assert.equal((await fixture.check()).action, 'none');
      await api.request({
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${fixture.namespace}/deployments/web`,
        body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:hacked' }] } } } },
        contentType: 'application/strategic-merge-patch+json',
      });
      const result = await fixture.check();
      assert.equal(result.action, 'heal', result.message);
      assert.deepEqual(
        result.drifted.map((d) => [d.object, d.reason]),
        [[`Deployment ${fixture.namespace}/web`, 'modified']],
      );
      assert.deepEqual(result.drifted[0]?.changes, [
        { path: '/spec/template/spec/containers/0/image', live: 'nginx:hacked', desired: 'nginx:1.27' },
      ]);
      await runQueuedJobs(fixture);
      const live = await api.request<{ spec: { template: { spec: { containers: { image: string }[] } } } }>({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${fixture.namespace}/deployments/web`,
      });
      assert.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.27');
    } finally {
      await rollouts.stop();
    }
  });

  test('a revision too large to keep with its deployment is fetched and rendered again to compare', async () => {
    const fixture = await reconcileFixture();
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    // As for a revision whose compressed objects exceed an item: no DESIRED item in the table.
    await new DynamoDBClient({}).send(
      new DeleteItemCommand({
        TableName: fixture.table,
        Key: { pk: { S: `PART#${fixture.app}/staging/app` }, sk: { S: 'DESIRED' } },
      }),
    );
    assert.equal(await fixture.store.getDesired(keyOf(fixture)), undefined);
    await api.request({
      method: 'PATCH',
      path: cmPath(fixture.namespace, 'settings'),
      body: { data: { v: 'by hand' } },
      contentType: 'application/merge-patch+json',
    });
    const result = await fixture.check();
    assert.equal(result.action, 'out-of-sync', result.message);
    assert.deepEqual(result.drifted[0]?.changes, [{ path: '/data/v', live: 'by hand', desired: '1' }]);
  });

  test('a ConfigMap deleted by hand is recreated', async () => {
    const fixture = await reconcileFixture({ selfHeal: true });
    await firstDeploy(fixture, {
      'deploy/cm.yaml': yaml(configMap('settings', { v: '1' }), configMap('other', { v: '1' })),
    });
    await api.request({ method: 'DELETE', path: cmPath(fixture.namespace, 'settings') });
    const result = await fixture.check();
    assert.equal(result.action, 'heal');
    assert.deepEqual(result.drifted, [
      { object: `ConfigMap ${fixture.namespace}/settings`, reason: 'missing' },
    ]);
    await runQueuedJobs(fixture);
    const live = await api.request<{ data: { v: string } }>({
      method: 'GET',
      path: cmPath(fixture.namespace, 'settings'),
    });
    assert.equal(live.data.v, '1');
  });

  test('an HPA-style change to replicas under an ignore rule is not drift; without the rule it is', async () => {
    const ignoring = await reconcileFixture({
      ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
    });
    const strict = await reconcileFixture();
    for (const fixture of [ignoring, strict]) {
      const rollouts = simulateRollouts(api, fixture.namespace);
      try {
        await firstDeploy(fixture, { 'deploy/web.yaml': yaml(deployment('web', 'nginx:1.27')) });
        await api.request({
          method: 'PATCH',
          path: `/apis/apps/v1/namespaces/${fixture.namespace}/deployments/web/scale`,
          body: { spec: { replicas: 7 } },
          contentType: 'application/merge-patch+json',
        });
      } finally {
        await rollouts.stop();
      }
    }
    const ignored = await ignoring.check();
    assert.equal(ignored.action, 'none', ignored.message);
    const detected = await strict.check();
    assert.equal(detected.action, 'out-of-sync');
    assert.deepEqual(detected.drifted[0]?.changes, [{ path: '/spec/replicas', live: 7, desired: 2 }]);
  });

  test('detect-only reports a Secret changed by hand with its values masked', async () => {
    const fixture = await reconcileFixture();
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      stringData: { password: 'from-git' },
    };
    await firstDeploy(fixture, { 'deploy/secret.yaml': yaml(secret) });
    await api.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${fixture.namespace}/secrets/db`,
      body: { data: { password: Buffer.from('by-hand').toString('base64') } },
      contentType: 'application/merge-patch+json',
    });
    const result = await fixture.check();
    assert.equal(result.action, 'out-of-sync');
    assert.ok(result.drifted[0]?.changes?.length, 'the change is listed');
    for (const change of result.drifted[0]?.changes ?? []) {
      assert.match(change.path, /^\/(data|stringData)\//);
      assert.equal(change.live ?? '(masked)', '(masked)');
      assert.equal(change.desired ?? '(masked)', '(masked)');
    }
    assert.doesNotMatch(JSON.stringify(result), /by-hand|from-git|YnktaGFuZA|ZnJvbS1naXQ/);
    const state = await fixture.store.get(keyOf(fixture));
    assert.equal(state?.sync.status, 'OutOfSync');
  });

  test('a check whose Git host is unreachable is recorded as an error, not thrown', async () => {
    const fixture = await reconcileFixture();
    await firstDeploy(fixture, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })) });
    const broken = {
      ...fixture.deps,
      store: fixture.store,
      queue: new SqsJobQueue(fixture.queueUrl),
      config: {
        ...fixture.deps.config,
        repositories: fixture.deps.config.repositories.map((r) => ({
          ...r,
          url: 'http://127.0.0.1:9/nowhere.git',
        })),
      },
    };
    const result = await checkEnvironment(
      { app: fixture.app, environment: 'staging', part: 'app', tickId: 't', scheduledAt: '' },
      broken,
    );
    assert.equal(result.action, 'error');
    assert.match(result.message, /check failed, tried again next tick: cannot list refs/);
  });
});
