// `ferry ui` on an AWS install, in a real browser: a stack on moto (its table and queues made by CloudFormation,
// its configuration in the template), written by the worker's and the reconciler's own code deploying to the
// test bed's apiserver; `ferry ui --stack` reads it with the caller's credentials and serves the page on the
// loopback address only.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, describe, test } from 'node:test';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbEnvironmentStore } from '../../functions/adapters/aws/dynamodb-environment-store.ts';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { partId } from '../../functions/core/model/part.ts';
import { checkEnvironment } from '../../functions/core/reconcile/check.ts';
import { browser } from '../support/browser.ts';
import { createMotoStack, freshDirectory, userEnvironment } from '../support/cli.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const FERRY = new URL('../../bin/ferry.ts', import.meta.url).pathname;
const TIMEOUT = { timeout: 240_000 };

const api = new KubernetesApi(testbedKubeConfig());
// The stack's queue URLs name SQS's own host: requests go to the endpoint configured (moto) all the same.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const children = new Set<ChildProcess>();
after(() => {
  api.close();
  sqs.destroy();
  for (const child of children) child.kill('SIGKILL');
});

/** `ferry ui` on the stack, in a fresh directory and a user's environment; resolves the page's URL. */
function ferryUi(options: readonly string[]): Promise<string> {
  return freshDirectory().then(
    (cwd) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [FERRY, 'ui', ...options, '--port', '0'], {
          cwd,
          env: userEnvironment(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.add(child);
        let output = '';
        const collect = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const url = /^Status page: (http:\/\/127\.0\.0\.1:\d+)\//m.exec(output)?.[1];
          if (url !== undefined) resolve(url);
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('exit', (code) => reject(new Error(`ferry ui exited (${code}):\n${output}`)));
      }),
  );
}

/** A GET naming another host, as a page of another site would through a DNS name pointing at the loopback. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(`${url}/`, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('ferry ui on an AWS install', () => {
  test(
    'shows what the stack recorded: deployments, a drift with the Secret masked, a failure, a dead letter',
    TIMEOUT,
    async () => {
      const fixture = await deployFixture({ selfHeal: false });
      const stack = await createMotoStack(fixture.deps.config);
      const deps = {
        ...fixture.deps,
        store: new DynamoDbEnvironmentStore(stack.tableName),
        queue: new SqsJobQueue(stack.deployQueueUrl, sqs),
      };
      const { app, namespace, workspace } = fixture;
      const password = `pw-${randomBytes(6).toString('hex')}`;
      const good = await workspace.commit({
        'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }),
        'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })),
        'deploy/secret.yaml': yaml({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'db' },
          data: { password: Buffer.from(password).toString('base64') },
        }),
      });
      await workspace.push();
      assert.equal((await deploy(fixture.job(good), deps)).result, 'succeeded');

      await api.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${namespace}/secrets/db`,
        body: { data: { password: Buffer.from('changed-live').toString('base64') } },
        contentType: 'application/merge-patch+json',
      });
      const key = { app, environment: 'staging', part: 'app' } as const;
      const check = { ...key, tickId: uniqueName('tick'), scheduledAt: new Date().toISOString() };
      assert.equal((await checkEnvironment(check, deps)).action, 'out-of-sync');

      const web = deployment('web', 'nginx:1.27');
      const bad = await workspace.commit({
        'deploy/web.yaml': yaml({ ...web, spec: { ...web.spec, replicas: 'many' } }),
      });
      await workspace.push();
      assert.equal((await deploy(fixture.job(bad), deps)).result, 'failed');
      // A job that failed every attempt, as SQS moves it after the deploy queue's receive limit.
      const dead = fixture.job(bad);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.deadLetterQueueUrl,
          MessageBody: JSON.stringify(dead),
          MessageGroupId: partId(key),
          MessageDeduplicationId: dead.id,
        }),
      );

      const url = await ferryUi(stack.options);
      assert.equal(
        await statusWithHost(url, 'ferry.attacker.example'),
        421,
        'only its own address is answered',
      );
      const page = await (await browser()).newPage();
      await page.goto(url);
      const cell = page.getByRole('row', { name: new RegExp(`^${app}\\b`) }).getByRole('cell');
      await cell.getByText('Failed', { exact: true }).waitFor();
      await cell.getByText(`applied ${good.slice(0, 12)}`).waitFor();
      await page.getByText(/cannot be listed without taking them from the worker/).waitFor();
      await page
        .getByRole('table', { name: /Dead letters/ })
        .getByRole('link', { name: partId(key) })
        .waitFor();

      await cell.getByRole('link').click();
      await page.waitForURL(`${url}/parts/${app}/staging/app`);
      const [failed, succeeded] = [
        page.locator('section.deployment').nth(0),
        page.locator('section.deployment').nth(1),
      ];
      await failed.getByRole('heading', { name: new RegExp(`failed ${bad.slice(0, 12)}`) }).waitFor();
      await failed
        .locator('pre.message')
        .getByText(/Deployment .*web.*spec\.replicas/s)
        .waitFor();
      await succeeded.getByRole('heading', { name: new RegExp(`succeeded ${good.slice(0, 12)}`) }).waitFor();
      await succeeded.getByRole('row', { name: new RegExp(`^Secret ${namespace}/db created`) }).waitFor();
      const drift = page.getByRole('region', { name: 'Drift' });
      await drift
        .getByRole('table', { name: `Secret ${namespace}/db` })
        .getByRole('row', { name: '/data/password (masked) (masked)' })
        .waitFor();
      const html = await page.content();
      for (const value of [password, 'changed-live', Buffer.from(password).toString('base64')]) {
        assert.ok(!html.includes(value), 'no Secret value is on the page');
      }
      const letters = page.getByRole('table', { name: /Dead letters/ });
      await letters.getByRole('cell', { name: bad.slice(0, 12) }).waitFor();
      await page.close();
    },
  );
});
