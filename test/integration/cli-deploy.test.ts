// The deploying commands on the test bed, on both targets: a local state directory (no server: the command
// deploys itself) and an AWS stack on moto whose jobs the worker function's real handler takes from the deploy
// queue. `diff` against the live cluster (created, changed field by field, Secret values masked, exit codes as
// kubectl diff's), `deploy` of a branch, `history`, `rollback` by a deployment's short id, `diff` against a short
// SHA and `resume`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { type Config, parseConfig } from '../../functions/core/config.ts';
import { type CliResult, createMotoStack, ferry, userEnvironment } from '../support/cli.ts';
import { createTokenSecret, stagingApp } from '../support/deploy.ts';
import { GitWorkspace } from '../support/git.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { drainWithWorker } from '../support/sqs-worker.ts';
import { testbed, testbedKubeConfig, uniqueName, writeTestbedKubeconfig } from '../support/testbed.ts';

const TIMEOUT = { timeout: 300_000 };
const api = new KubernetesApi(testbedKubeConfig());
const cleanup: string[] = [];
after(async () => {
  api.close();
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Site {
  readonly app: string;
  readonly namespace: string;
  readonly workspace: GitWorkspace;
  readonly config: Config;
  readonly tokenSecret: string;
}

async function site(): Promise<Site> {
  const app = uniqueName('app');
  const namespace = uniqueName('ns');
  const [workspace, kubeconfig, tokenSecret] = await Promise.all([
    GitWorkspace.create(`tests/${app}`),
    writeTestbedKubeconfig(),
    createTokenSecret(),
  ]);
  cleanup.push(workspace.dir, kubeconfig);
  const config = parseConfig({
    repositories: [
      { name: 'site', url: workspace.url, provider: 'github', webhookSecret: 'cli/hook', tokenSecret },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [stagingApp({ app, repository: 'site', namespace })],
  });
  return { app, namespace, workspace, config, tokenSecret };
}

const manifests = (s: Site, value: string) => ({
  'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.namespace } }),
  'deploy/cm.yaml': yaml(configMap('settings', { v: value })),
  'deploy/secret.yaml': yaml({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds' },
    stringData: { password: `s3cret-${value}` },
  }),
});

async function push(s: Site, value: string): Promise<string> {
  const commit = await s.workspace.commit(manifests(s, value));
  await s.workspace.push();
  return commit;
}

/** How a test runs a command on its target, and what the target's worker does meanwhile. */
type Run = (args: readonly string[]) => Promise<CliResult>;

async function changeLive(s: Site): Promise<void> {
  await api.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${s.namespace}/configmaps/settings`,
    body: { data: { v: 'changed by hand' } },
    contentType: 'application/merge-patch+json',
  });
  await api.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${s.namespace}/secrets/creds`,
    body: { stringData: { password: 'leaked-by-hand' } },
    contentType: 'application/merge-patch+json',
  });
}

/** The same story on either target. */
async function story(s: Site, ferryOn: Run): Promise<void> {
  const part = `${s.app}/staging`;
  const first = await push(s, '1');

  const before = await ferryOn(['diff', part]);
  assert.equal(before.code, 1, before.stderr);
  assert.match(
    before.stdout,
    new RegExp(
      `^${s.app}/staging/app: cluster testbed against ${first.slice(0, 12)} \\(refs/heads/main\\)$`,
      'm',
    ),
  );
  assert.match(
    before.stdout,
    new RegExp(`^\\+ ConfigMap ${s.namespace}/settings \\(would be created\\)$`, 'm'),
  );
  assert.match(before.stdout, new RegExp(`^\\+ Secret ${s.namespace}/creds \\(would be created\\)$`, 'm'));
  assert.match(before.stdout, /^3 of 3 object\(s\) differ\.$/m);

  const deployed = await ferryOn(['deploy', part, 'main']);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stdout, /^succeeded: /m);
  assert.match(deployed.stdout, new RegExp(`^  created ConfigMap ${s.namespace}/settings$`, 'm'));

  const same = await ferryOn(['diff', part]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(
    same.stdout,
    new RegExp(
      `^No differences: the cluster runs what ${first.slice(0, 12)} renders \\(3 objects\\)\\.$`,
      'm',
    ),
  );

  await changeLive(s);
  const drifted = await ferryOn(['diff', part]);
  assert.equal(drifted.code, 1, drifted.stderr);
  assert.match(
    drifted.stdout,
    new RegExp(`^~ ConfigMap ${s.namespace}/settings\n {4}/data/v: "changed by hand" → "1"$`, 'm'),
  );
  assert.match(
    drifted.stdout,
    new RegExp(`^~ Secret ${s.namespace}/creds\n {4}/data/password: "\\(masked\\)" → "\\(masked\\)"$`, 'm'),
  );
  for (const value of ['leaked-by-hand', 's3cret-1', Buffer.from('leaked-by-hand').toString('base64')]) {
    assert.ok(!drifted.stdout.includes(value), `no Secret value in the diff: ${value}`);
  }

  const second = await push(s, '2');
  const again = await ferryOn(['deploy', part, 'main']);
  assert.equal(again.code, 0, again.stderr);
  const history = await ferryOn(['history', part]);
  assert.equal(history.code, 0, history.stderr);
  const rows = history.stdout.split('\n').filter((line) => /^[0-9a-f]{8} {2}/.test(line));
  assert.equal(rows.length, 2, history.stdout);
  assert.match(rows[0] ?? '', new RegExp(`succeeded +${second.slice(0, 12)} +refs/heads/main +manual \\(`));
  const firstId = rows[1]?.slice(0, 8) ?? '';

  const rolledBack = await ferryOn(['rollback', part, firstId]);
  assert.equal(rolledBack.code, 0, rolledBack.stderr);
  assert.match(
    rolledBack.stdout,
    new RegExp(
      `to deploy ${first.slice(0, 12)} \\(refs/heads/main\\) to ${part}/app, pinned there|^Deploying ${first.slice(0, 12)}`,
      'm',
    ),
  );
  assert.match(rolledBack.stdout, /^succeeded: /m);
  const status = await ferryOn(['status', part]);
  assert.match(
    status.stdout,
    new RegExp(`^  pinned at ${first.slice(0, 12)} \\(refs/heads/main\\) by \\S+ since `, 'm'),
  );

  const ahead = await ferryOn(['diff', part, second.slice(0, 7)]);
  assert.equal(ahead.code, 1, ahead.stderr);
  assert.match(
    ahead.stdout,
    new RegExp(`^~ ConfigMap ${s.namespace}/settings\n {4}/data/v: "1" → "2"$`, 'm'),
  );

  const resumed = await ferryOn(['resume', part]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`^Releasing the pin of ${part}/app at ${first.slice(0, 12)}`, 'm'));
  const released = await ferryOn(['status', part]);
  assert.match(released.stdout, new RegExp(`^${part}/app +Synced +${second.slice(0, 12)} `, 'm'));
  assert.doesNotMatch(released.stdout, /pinned at/);

  const unknown = await ferryOn(['diff', part, 'no-such-branch']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /"no-such-branch" is no commit, deployment, branch or tag of repository site/);
}

describe('the deploying commands', () => {
  test('on a local state directory, deployed by the command itself', TIMEOUT, async () => {
    const s = await site();
    const dir = await mkdtemp(join(tmpdir(), 'ferry-cli-deploy-'));
    cleanup.push(dir);
    const configFile = join(dir, 'ferry.config.yaml');
    await writeFile(configFile, yaml(s.config));
    const secret = `FERRY_SECRET_${s.tokenSecret.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const env = userEnvironment({ [secret]: testbed().gitToken });
    const options = ['--state-dir', join(dir, 'state'), '--config', configFile];
    await story(s, (args) => ferry([...args, ...options], { env }));
  });

  test('on an AWS stack, deployed by the worker function from the deploy queue', TIMEOUT, async () => {
    const s = await site();
    const stack = await createMotoStack(s.config);
    // The worker reaches the queue through the endpoint's own URL of it, as the test bed's drivers do.
    const { QueueUrl = '' } = await new SQSClient({}).send(
      new GetQueueUrlCommand({ QueueName: stack.deployQueueUrl.split('/').pop() }),
    );
    const environment = { config: s.config, table: stack.tableName };
    await story(s, async (args) => {
      const running = ferry([...args, ...stack.options]);
      if (args[0] === 'deploy' || args[0] === 'rollback' || args[0] === 'resume') {
        await drainWithWorker(QueueUrl, environment, { until: running, timeoutMs: 120_000 });
      }
      return running;
    });
  });
});
