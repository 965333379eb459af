// A plan on a real Gitea pull request, end to end: the local mode's server (the real intake, worker, comment
// adapter and status reporter) behind a Gitea hook, the base branch deployed to the real kube-apiserver by a
// push, then a pull request that changes a ConfigMap value and a Secret, deletes a Service and adds a Deployment
// with an invalid field. Gitea itself sends the deliveries; the comment and the statuses are read back from its
// API; the cluster's objects are compared by resourceVersion before and after every plan.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { RunningHttpServer } from '../../functions/adapters/local/http-server.ts';
import type { JobWorker } from '../../functions/adapters/local/job-worker.ts';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { parseConfig } from '../../functions/core/config.ts';
import type { JobResult, LocalRuntime, LocalState } from '../../functions/runtime/local.ts';
import {
  type CommitStatus,
  GiteaClient,
  type GiteaRepository,
  type GiteaWorkspace,
} from '../support/gitea.ts';
import { type LocalServer, startLocalServer } from '../support/local-server.ts';
import { configMap, deployment, service, yaml } from '../support/manifests.ts';
import {
  createNamespaces,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../support/testbed.ts';

const gitea = new GiteaClient();
const api = new KubernetesApi(testbedKubeConfig());
const WEBHOOK_SECRET = 'gitea-plan-hook-0123456789abcdef';
const SECRET_VALUE = 'hunter2-the-old-password';
const NEW_SECRET_VALUE = 'correct-horse-battery-staple';
/** A Secret's values as they show: plain, or base64 as the API keeps them. */
const secretShown = new RegExp(
  [SECRET_VALUE, NEW_SECRET_VALUE].flatMap((v) => [v, Buffer.from(v).toString('base64')]).join('|'),
);

const app = uniqueName('plan');
const namespace = uniqueName('ns');
/** An environment whose path filter no change of the pull request matches: never planned. */
const docsNamespace = uniqueName('ns');
const logs: string[] = [];
let token: string;
let repository: GiteaRepository;
let workspace: GiteaWorkspace;
let server: LocalServer;
let state: LocalState;
let runtime: LocalRuntime;
let http: RunningHttpServer;
let worker: JobWorker<JobResult>;

const secret = (value: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'credentials' },
  stringData: { password: value },
});

before(async () => {
  repository = await gitea.createRepository();
  workspace = await gitea.workspace(repository);
  await createNamespaces(api, [namespace, docsNamespace]);
  // What Ferry's token needs here: the repository (clone, statuses), its pull requests' comments, and who it is.
  token = await gitea.createToken(['write:repository', 'write:issue', 'read:user']);
  const config = parseConfig({
    repositories: [
      {
        name: app,
        url: repository.cloneUrl,
        provider: 'gitea',
        webhookSecret: 'plan/webhook',
        tokenSecret: 'plan/token',
      },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig: await writeTestbedKubeconfig() }],
    apps: [
      {
        name: app,
        repository: app,
        path: 'deploy',
        environments: [
          {
            name: 'staging',
            cluster: 'testbed',
            namespace,
            trigger: { branches: ['main'], paths: ['deploy/**'] },
            deletionBudget: 1,
            healthTimeoutSeconds: 20,
          },
          {
            name: 'docs',
            cluster: 'testbed',
            namespace: docsNamespace,
            trigger: { branches: ['main'], paths: ['docs/**'] },
          },
        ],
      },
    ],
  });
  const secrets = new LocalSecretSource({
    env: { FERRY_SECRET_PLAN_WEBHOOK: WEBHOOK_SECRET, FERRY_SECRET_PLAN_TOKEN: token },
  });
  const logger = createLogger({ write: (line) => logs.push(line) });
  server = await startLocalServer({ config, secrets, logger, name: 'plan-gitea' });
  ({ runtime, http, state } = server);
  await gitea.createHook(repository, {
    url: `${http.url}/webhook`,
    secret: WEBHOOK_SECRET,
    events: ['push', 'pull_request'],
  });
  worker = runtime.worker({ concurrency: 2 });
  worker.start();
});

after(async () => {
  await worker?.stop();
  await server?.close();
  api.close();
  await workspace?.remove();
});

/** Polls until `read` gives something `done` accepts, or the time is up (then the last reading). */
async function when<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(300);
  }
}

/** The commit's statuses of a context, oldest first. */
async function statusesOf(commit: string, context: string): Promise<CommitStatus[]> {
  return (await gitea.statuses(repository, commit)).filter((s) => s.context === context).reverse();
}

interface Comment {
  readonly id: number;
  readonly body: string;
  readonly user: { readonly login: string };
}

/** Read with Ferry's token: the test bed's has no issue scope. */
const commentsOf = (pull: number) =>
  new GiteaClient({ ...gitea.settings, token }).request<Comment[]>(
    'GET',
    `/repos/${repository.fullName}/issues/${pull}/comments`,
  );

/** Every object in the namespace, and the namespace, by kind and name, with its resourceVersion. */
async function clusterSnapshot(): Promise<string[]> {
  const kinds = [
    '/api/v1/namespaces/NS/configmaps',
    '/api/v1/namespaces/NS/secrets',
    '/api/v1/namespaces/NS/services',
    '/apis/apps/v1/namespaces/NS/deployments',
  ];
  const listed = await Promise.all(
    kinds.map((path) =>
      api.request<{ items: { kind?: string; metadata: { name: string; resourceVersion: string } }[] }>({
        method: 'GET',
        path: path.replace('NS', namespace),
      }),
    ),
  );
  const own = await api.request<{ metadata: { resourceVersion: string } }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}`,
  });
  return [
    `Namespace/${namespace}@${own.metadata.resourceVersion}`,
    ...listed.flatMap((list, i) =>
      list.items.map(
        (o) => `${kinds[i]?.split('/').at(-1)}/${o.metadata.name}@${o.metadata.resourceVersion}`,
      ),
    ),
  ].sort();
}

const PLAN_CONTEXT = `ferry/plan/${app}/staging`;

describe('a plan on every pull request, on a real Gitea', () => {
  let base: string[];
  let pull: number;
  let commentId: number;

  test('the base branch is deployed by a push', async () => {
    const commit = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello' })),
      'deploy/web.yaml': yaml(service('web')),
      'deploy/credentials.yaml': yaml(secret(SECRET_VALUE)),
    });
    await workspace.push();
    const statuses = await when(
      () => statusesOf(commit, `ferry/${app}/staging`),
      (s) => s.at(-1)?.status === 'success',
    );
    assert.equal(statuses.at(-1)?.status, 'success', JSON.stringify(statuses.map((s) => s.description)));
    base = await clusterSnapshot();
    assert.ok(base.some((entry) => entry.startsWith('services/web@')));
  });

  test('opening a pull request posts one comment with the change, the prune and the refusal, and fails its head', async () => {
    await workspace.git('checkout', '--quiet', '-b', 'change');
    const broken = {
      ...deployment('api', 'nginx:1.27'),
      spec: { ...deployment('api', 'nginx:1.27').spec, replicas: -1 },
    };
    const head = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello, plan' })),
      'deploy/web.yaml': null,
      'deploy/credentials.yaml': yaml(secret(NEW_SECRET_VALUE)),
      'deploy/api.yaml': yaml(broken),
    });
    await workspace.push('refs/heads/change');
    const opened = await gitea.request<{ number: number }>('POST', `/repos/${repository.fullName}/pulls`, {
      head: 'change',
      base: 'main',
      title: 'A new message, no web Service, an api',
    });
    pull = opened.number;
    const statuses = await when(
      () => statusesOf(head, PLAN_CONTEXT),
      (s) => s.at(-1)?.status === 'failure',
    );
    assert.equal(statuses.at(-1)?.status, 'failure', JSON.stringify(statuses.map((s) => s.description)));
    assert.match(statuses.at(-1)?.description ?? '', /2 to change, 1 to prune, 1 refused/);
    assert.equal(statuses.at(0)?.status, 'pending');

    const comments = await when(
      () => commentsOf(pull),
      (c) => c.some((comment) => comment.body.includes(head.slice(0, 7))),
    );
    const ours = comments.filter((c) => c.body.startsWith('<!-- ferry:plan -->'));
    assert.equal(ours.length, 1, 'one comment');
    const [comment] = ours as [Comment];
    commentId = comment.id;
    const body = comment.body;
    assert.match(
      body,
      new RegExp(
        `\\*\\*❌ ${app}/staging at \`${head.slice(0, 7)}\`: 2 to change, 1 to prune, 1 refused\\*\\*`,
      ),
    );
    assert.match(
      body,
      new RegExp(`~ change {4}ConfigMap ${namespace}/settings\n {13}/data/message: "hello" → "hello, plan"`),
    );
    assert.match(
      body,
      new RegExp(`- prune {5}Service ${namespace}/web: owned: it carries this environment's labels`),
    );
    assert.match(
      body,
      new RegExp(
        `! refused {3}Deployment ${namespace}/api: .*spec\\.replicas: Invalid value: -1: must be greater than or equal to 0`,
      ),
    );
    assert.match(body, /budget {4}1 prune candidate\(s\), within the deletion budget of 1/);
    assert.match(
      body,
      new RegExp(
        `~ change {4}Secret ${namespace}/credentials\n {13}/data/password: "\\(masked\\)" → "\\(masked\\)"`,
      ),
    );
    assert.match(body, /<details><summary>Plan<\/summary>/);
    assert.doesNotMatch(body, secretShown);
    assert.deepEqual(await clusterSnapshot(), base, 'the cluster is unchanged');
    // The docs environment's job ran too, after staging's: no change of the pull request concerns it.
    await when(
      async () => state.queue.pending().length,
      (n) => n === 0,
    );
    assert.deepEqual(await statusesOf(head, `ferry/plan/${app}/docs`), []);
    const [only] = (await commentsOf(pull)).filter((c) => c.body.startsWith('<!-- ferry:plan -->'));
    assert.doesNotMatch(only?.body ?? '', /\/docs/);
  });

  test('a fix pushed to the pull request updates the same comment and turns the status to success', async () => {
    const fixed = await workspace.commit({ 'deploy/api.yaml': yaml(deployment('api', 'nginx:1.27')) });
    await workspace.push('refs/heads/change');
    const statuses = await when(
      () => statusesOf(fixed, PLAN_CONTEXT),
      (s) => s.at(-1)?.status === 'success',
    );
    assert.equal(statuses.at(-1)?.status, 'success', JSON.stringify(statuses.map((s) => s.description)));
    assert.equal(statuses.at(-1)?.description, '1 to create, 2 to change, 1 to prune');
    const comments = await when(
      () => commentsOf(pull),
      (c) => c.some((comment) => comment.body.includes(fixed.slice(0, 7))),
    );
    const ours = comments.filter((c) => c.body.startsWith('<!-- ferry:plan -->'));
    assert.deepEqual(
      ours.map((c) => c.id),
      [commentId],
      'the same comment, updated in place',
    );
    const body = ours[0]?.body ?? '';
    assert.match(
      body,
      new RegExp(
        `\\*\\*📝 ${app}/staging at \`${fixed.slice(0, 7)}\`: 1 to create, 2 to change, 1 to prune\\*\\*`,
      ),
    );
    assert.match(body, new RegExp(`\\+ create {4}Deployment ${namespace}/api`));
    assert.doesNotMatch(body, /refused/);
    assert.doesNotMatch(body, secretShown);
    assert.deepEqual(await clusterSnapshot(), base, 'the cluster is unchanged');
  });

  test('a newer commit supersedes a plan still queued: the plan follows the head', async () => {
    await worker.stop();
    const older = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello, older' })),
    });
    await workspace.push('refs/heads/change');
    const queued = (commit: string) => async () => state.queue.pending().some((p) => p.job.commit === commit);
    assert.ok(await when(queued(older), Boolean), 'the older commit is queued');
    const newer = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello, newer' })),
    });
    await workspace.push('refs/heads/change');
    assert.ok(await when(queued(newer), Boolean), 'the newer commit is queued behind it');
    worker = runtime.worker({ concurrency: 2 });
    worker.start();
    const onNewer = await when(
      () => statusesOf(newer, PLAN_CONTEXT),
      (s) => s.at(-1)?.status === 'success',
    );
    assert.equal(onNewer.at(-1)?.status, 'success', JSON.stringify(onNewer.map((s) => s.description)));
    // Both jobs planned the head they found, the newer commit; the older one was never planned.
    await when(
      async () => state.queue.pending().length,
      (n) => n === 0,
    );
    const planned = logs
      .map((line) => JSON.parse(line) as { message?: string; part?: string; commit?: string })
      .filter((entry) => entry.message === 'plan finished' && entry.part === `${app}/staging/app`)
      .map((entry) => entry.commit);
    assert.ok(planned.includes(newer));
    assert.ok(!planned.includes(older), 'the older commit was never planned');
    assert.deepEqual(await statusesOf(older, PLAN_CONTEXT), [], 'nor marked: its part has path patterns');
    const [comment] = (await commentsOf(pull)).filter((c) => c.body.startsWith('<!-- ferry:plan -->'));
    assert.equal(comment?.id, commentId);
    assert.match(comment?.body ?? '', /"hello" → "hello, newer"/);
    assert.deepEqual(await clusterSnapshot(), base, 'the cluster is unchanged');
  });

  test('nothing a plan did reached the part: no deployment recorded, no token or Secret value in a log line', async () => {
    const history = await state.store.listDeployments({ app, environment: 'staging', part: 'app' }, 10);
    assert.equal(history.length, 1, 'only the push deployed');
    assert.ok(logs.some((line) => line.includes('plan finished')));
    for (const line of logs) {
      assert.ok(!line.includes(token), 'no token in the logs');
      assert.doesNotMatch(line, secretShown, 'no Secret value in the logs');
    }
  });
});
