// Order between environments on the test bed: an environment that depends on another waits for it, holding
// nothing, and deploys once it is ready; a follower deploys what the environment it follows has run healthily
// long enough; the configuration refuses a cycle.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { createJob, type DeployJob, type JobTrigger } from '../../functions/core/model/job.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import { type CheckDependencies, checkEnvironment } from '../../functions/core/reconcile/check.ts';
import { createDeployQueue, receiveAll } from '../support/aws.ts';
import { type CliResult, ferry } from '../support/cli.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { withApps } from '../support/ordering.ts';
import { createNamespaces, testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

const MAIN = 'refs/heads/main';
const push = (): JobTrigger => ({ kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' });
const pin: JobTrigger = { kind: 'manual', requestedBy: 'tests', pin: true, overrideDeletionBudget: false };
const part = (app: string, environment = 'staging'): PartKey => ({ app, environment, part: 'app' });
const configMapIn = (namespace: string, name: string) =>
  api
    .request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    })
    .catch(() => undefined);
const check = (key: PartKey, deps: CheckDependencies) =>
  checkEnvironment({ ...key, tickId: uniqueName('tick'), scheduledAt: new Date().toISOString() }, deps);

describe('ordering: dependencies between environments', () => {
  /** The fixture's app `web` depends on a second app, `db`, of the same repository, in the same namespace. */
  async function dependentApps() {
    const fixture = await deployFixture();
    const db = uniqueName('db');
    await createNamespaces(api, [fixture.namespace]);
    const configured = withApps(fixture, {
      [fixture.app]: {
        path: 'deploy',
        environments: { staging: { dependsOn: [{ app: db, environment: 'staging' }] } },
      },
      [db]: { path: 'db', environments: { staging: {} } },
    });
    const queueUrl = await createDeployQueue();
    const deps = { ...configured, store: fixture.store, queue: new SqsJobQueue(queueUrl) };
    const commit = await fixture.workspace.commit({
      'deploy/web.yaml': yaml(configMap('web', { talksTo: 'db' })),
      'db/db.yaml': yaml(configMap('db', { role: 'database' })),
    });
    await fixture.workspace.push();
    return { fixture, db, deps, queueUrl, commit };
  }

  test('a dependent environment waits for its dependency, holding nothing, and then deploys', async () => {
    const { fixture, db, deps, queueUrl, commit } = await dependentApps();
    const web = part(fixture.app);
    const waiting = await deploy(createJob(web, { ref: MAIN, commit }, push()), deps);
    assert.equal(waiting.result, 'waiting', waiting.message);
    assert.equal(waiting.message, `waiting for ${db}/staging/app has applied nothing yet`);
    assert.equal(await configMapIn(fixture.namespace, 'web'), undefined, 'nothing applied');
    const state = await fixture.store.get(web);
    assert.equal(state?.sync.status, 'OutOfSync');
    assert.match(state?.sync.message ?? '', /waiting for/);
    assert.equal(await fixture.store.lock(web, 'another worker', 60), true, 'the lock is free');
    await fixture.store.unlock(web, 'another worker');

    const checked = await check(web, deps);
    assert.equal(checked.action, 'waiting', checked.message);
    assert.match(checked.message, new RegExp(`waiting for ${db}/staging/app has applied nothing yet`));
    assert.deepEqual(
      await receiveAll(queueUrl),
      [],
      'the check enqueued nothing while the dependency is not ready',
    );

    const dependency = await deploy(createJob(part(db), { ref: MAIN, commit }, push()), deps);
    assert.equal(dependency.result, 'succeeded', dependency.message);
    const released = (await receiveAll<DeployJob>(queueUrl)).map((m) => m.body);
    assert.deepEqual(
      released.map((j) => [j.app, j.commit]),
      [[fixture.app, commit]],
      'the dependency released its dependent',
    );
    const [job] = released as [DeployJob];
    const record = await deploy(job, deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.equal((await configMapIn(fixture.namespace, 'web'))?.data?.talksTo, 'db');
    assert.ok(Date.parse(record.startedAt) >= Date.parse(dependency.finishedAt));
    assert.equal((await fixture.store.get(web))?.sync.status, 'Synced');
  });

  test('without a queue to release it, the dependent deploys at its next check', async () => {
    const { fixture, db, deps, queueUrl, commit } = await dependentApps();
    const { queue: _, ...withoutQueue } = deps;
    const dependency = await deploy(createJob(part(db), { ref: MAIN, commit }, push()), withoutQueue);
    assert.equal(dependency.result, 'succeeded', dependency.message);
    assert.deepEqual(await receiveAll(queueUrl), []);
    const checked = await check(part(fixture.app), deps);
    assert.equal(checked.action, 'deploy', checked.message);
    const [job] = (await receiveAll<DeployJob>(queueUrl)).map((m) => m.body);
    assert.ok(job !== undefined);
    assert.equal((await deploy(job, deps)).result, 'succeeded');
    assert.notEqual(await configMapIn(fixture.namespace, 'web'), undefined);
  });
});

describe('ordering: promotion between environments', () => {
  test('a follower deploys staging’s commit only after staging ran it healthily for healthyFor', async () => {
    const fixture = await deployFixture();
    const production = uniqueName('ns-prod');
    await createNamespaces(api, [fixture.namespace, production]);
    const configured = withApps(fixture, {
      [fixture.app]: {
        path: 'deploy',
        environments: {
          staging: {},
          production: { namespace: production, follow: { environment: 'staging', healthyFor: '3s' } },
        },
      },
    });
    const queueUrl = await createDeployQueue();
    const deps = { ...configured, store: fixture.store, queue: new SqsJobQueue(queueUrl) };
    const staging = part(fixture.app);
    const follower = part(fixture.app, 'production');
    const v1 = await fixture.workspace.commit({ 'deploy/cm.yaml': yaml(configMap('release', { v: '1' })) });
    await fixture.workspace.push();

    const before = await check(follower, deps);
    assert.equal(before.action, 'waiting');
    assert.equal(before.message, 'waiting for staging: it has applied nothing yet');
    const first = await deploy(createJob(staging, { ref: MAIN, commit: v1 }, push()), deps);
    assert.equal(first.result, 'succeeded', first.message);
    const appliedAt = Date.parse((await fixture.store.get(staging))?.lastApplied?.appliedAt ?? '');

    const early = await check(follower, deps);
    assert.equal(early.action, 'waiting', early.message);
    assert.match(
      early.message,
      new RegExp(`^waiting for staging: staging has run ${v1.slice(0, 12)} Synced for \\ds of 3s$`),
    );
    assert.deepEqual(await receiveAll(queueUrl), [], 'nothing enqueued before the time');
    const pushed = await deploy(createJob(follower, { ref: MAIN, commit: v1 }, push()), deps);
    assert.equal(pushed.result, 'waiting', 'a job before the time deploys nothing either');
    assert.equal(await configMapIn(production, 'release'), undefined);

    await sleep(Math.max(0, appliedAt + 3000 - Date.now()));
    const due = await check(follower, deps);
    assert.equal(due.action, 'deploy', due.message);
    assert.equal(due.headCommit, v1);
    const [job] = (await receiveAll<DeployJob>(queueUrl)).map((m) => m.body);
    assert.ok(job !== undefined);
    const promoted = await deploy(job, deps);
    assert.equal(promoted.result, 'succeeded', promoted.message);
    assert.equal(promoted.commit, v1);
    assert.ok(Date.parse(promoted.startedAt) - appliedAt >= 3000, 'promoted only after healthyFor');
    assert.equal((await configMapIn(production, 'release'))?.data?.v, '1');
    assert.equal((await check(follower, deps)).action, 'none', 'the follower runs what staging ran');

    const v2 = await fixture.workspace.commit({ 'deploy/cm.yaml': yaml(configMap('release', { v: '2' })) });
    await fixture.workspace.push();
    assert.equal(
      (await deploy(createJob(staging, { ref: MAIN, commit: v2 }, push()), deps)).result,
      'succeeded',
    );
    const waits = await check(follower, deps);
    assert.equal(waits.action, 'waiting', waits.message);
    assert.match(
      waits.message,
      /^in sync with \w+ .*; waiting for staging: staging has run \w+ Synced for \ds of 3s$/,
    );
    const manual = await deploy(createJob(follower, { ref: MAIN, commit: v2 }, pin), deps);
    assert.equal(manual.result, 'succeeded', 'a manual deploy (a pin) wins over following');
    assert.equal((await configMapIn(production, 'release'))?.data?.v, '2');
  });
});

describe('ordering: the configuration', () => {
  const environment = (name: string, extra: object) => ({
    name,
    cluster: 'laptop',
    namespace: 'shop',
    trigger: { branches: ['main'] },
    ...extra,
  });
  const app = (name: string, environments: object[]) => ({
    name,
    repository: 'shop',
    path: name,
    environments,
  });

  /** `ferry validate` of a configuration with these apps. */
  async function validate(apps: object[]): Promise<CliResult> {
    const file = join(tmpdir(), `${uniqueName('ordering')}.yaml`);
    await writeFile(
      file,
      yaml({
        repositories: [
          {
            name: 'shop',
            url: 'https://git.example.com/acme/shop.git',
            provider: 'github',
            webhookSecret: 's',
          },
        ],
        clusters: [{ name: 'laptop', type: 'kubeconfig' }],
        apps,
      }),
    );
    return ferry(['validate', '--config', file]);
  }

  test('ferry validate refuses a dependency cycle, naming it', async () => {
    const { code, stderr } = await validate([
      app('web', [environment('staging', { dependsOn: [{ app: 'db', environment: 'staging' }] })]),
      app('db', [environment('staging', { dependsOn: [{ app: 'web', environment: 'staging' }] })]),
    ]);
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      /apps\[0\]\.environments\[0\]\.dependsOn: dependency cycle: web\/staging → db\/staging → web\/staging/,
    );
  });

  test("ferry validate's summary says what each environment follows and depends on", async () => {
    const { code, stdout, stderr } = await validate([
      app('web', [
        environment('staging', { dependsOn: [{ app: 'db', environment: 'staging' }] }),
        {
          ...environment('production', {}),
          trigger: undefined,
          follow: { environment: 'staging', healthyFor: '10m' },
        },
      ]),
      app('db', [environment('staging', {})]),
    ]);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    assert.ok(
      lines.includes('    staging: cluster laptop, namespace shop, branches main, depends on db/staging'),
      stdout,
    );
    assert.ok(
      lines.includes('    production: cluster laptop, namespace shop, follows staging once healthy for 10m'),
      stdout,
    );
    assert.ok(lines.includes('    staging: cluster laptop, namespace shop, branches main'), stdout);
  });
});
