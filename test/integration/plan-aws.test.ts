// A plan the AWS way, against GitHub's contract: the webhook function's real handler takes a signed GitHub
// `pull_request` delivery and enqueues the plan on moto's SQS FIFO deploy queue in the pull request's own message
// group, beside a deployment of the same environment in the part's; the worker function's real handler takes the
// plan, follows the pull request's head (`refs/pull/<n>/head`), plans it on the real kube-apiserver and writes the
// comment and the plan's statuses. The repository is a GitHub Enterprise Server as the adapters see it: Git served
// by the test bed's Git server and `/api/v3` by the contract server that checks every request against GitHub's
// OpenAPI description (a contract check, not GitHub).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { type Config, parseConfig } from '../../functions/core/config.ts';
import { createJob, type DeployJob } from '../../functions/core/model/job.ts';
import { handler as webhook } from '../../functions/webhook/handler.ts';
import { createDeployQueue, createStateTable } from '../support/aws.ts';
import { createTokenSecret, stagingApp } from '../support/deploy.ts';
import { GitWorkspace } from '../support/git.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { type GitHubPlanContract, startGitHubPlanContract } from '../support/plan-contract.ts';
import { invokeWorker, receiveMessages, sqsEvent, useWorkerEnvironment } from '../support/sqs-worker.ts';
import {
  createNamespaces,
  testbed,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../support/testbed.ts';
import { apiEvent, githubDelivery, lambdaContext, type Payload } from '../support/webhooks.ts';

const api = new KubernetesApi(testbedKubeConfig());
const WEBHOOK_SECRET = randomUUID();
const app = uniqueName('app');
const namespace = uniqueName('ns');
const repo = uniqueName('shop');
let contract: GitHubPlanContract;
let front: Server;
let frontUrl: string;
let workspace: GitWorkspace;
let queueUrl: string;
let table: string;
let config: Config;

/** One origin for the repository: Git to the test bed's Git server, `/api/v3` to the contract server. */
function startFront(): Promise<Server> {
  const server = createServer((incoming, response) => {
    const target = new URL(incoming.url?.startsWith('/api/v3/') ? contract.url : testbed().gitUrl);
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname.replace(/\/$/, '')}${incoming.url}`,
        method: incoming.method,
        headers: { ...incoming.headers, host: target.host },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    incoming.pipe(forwarded);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  // The contract takes the test bed's Git token: one token clones, lists, comments and posts statuses.
  contract = await startGitHubPlanContract({
    owner: 'tests',
    repo,
    token: testbed().gitToken,
    login: 'ferry-bot',
  });
  front = await startFront();
  frontUrl = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
  const [created, kubeconfig, tokenSecret, deployQueue, stateTable] = await Promise.all([
    GitWorkspace.create(`tests/${repo}`),
    writeTestbedKubeconfig(),
    createTokenSecret(),
    createDeployQueue(),
    createStateTable(),
  ]);
  workspace = created;
  queueUrl = deployQueue;
  table = stateTable;
  const webhookSecret = uniqueName('ferry/plan/webhook');
  await new SecretsManagerClient({}).send(
    new CreateSecretCommand({ Name: webhookSecret, SecretString: WEBHOOK_SECRET }),
  );
  config = parseConfig({
    repositories: [
      { name: 'shop', url: `${frontUrl}/tests/${repo}.git`, provider: 'github', webhookSecret, tokenSecret },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [stagingApp({ app, repository: 'shop', namespace })],
  });
  await createNamespaces(api, [namespace]);
  // The webhook function reads the same three variables as the worker.
  useWorkerEnvironment(queueUrl, { config, table });
});
after(async () => {
  api.close();
  front?.close();
  await contract?.close();
  await workspace?.remove();
});

/** A `pull_request` delivery as GitHub sends it for the repository behind the front. */
function pullRequest(number: number, head: string): Payload {
  const repository = { full_name: `tests/${repo}`, clone_url: `${frontUrl}/tests/${repo}.git` };
  return {
    action: 'opened',
    number,
    pull_request: {
      number,
      draft: false,
      merged: false,
      base: { ref: 'main', repo: repository },
      head: { ref: 'change', sha: head, repo: repository },
    },
    repository,
  };
}

describe('a plan through the AWS functions', () => {
  test("the webhook enqueues the plan in the pull request's group; the worker comments and posts its status", async () => {
    const base = await workspace.commit({ 'deploy/settings.yaml': yaml(configMap('settings', { v: '1' })) });
    await workspace.push();
    const head = await workspace.commit({ 'deploy/settings.yaml': yaml(configMap('settings', { v: '2' })) });
    // GitHub keeps every pull request's head in the base repository.
    await workspace.push('refs/pull/7/head');
    contract.pulls.set(7, { comments: [], files: ['deploy/settings.yaml'] });
    const answer = await webhook(
      apiEvent(githubDelivery(pullRequest(7, head), { secret: WEBHOOK_SECRET, event: 'pull_request' })),
      lambdaContext(),
    );
    assert.equal(answer.statusCode, 202, String(answer.body));
    // A deployment of the same environment waits in the part's own group, not in the plan's way.
    const deployJob: DeployJob = createJob(
      { app, environment: 'staging', part: 'app' },
      { ref: 'refs/heads/main', commit: base },
      { kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' },
    );
    await new SQSClient({}).send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(deployJob),
        MessageGroupId: `${app}/staging/app`,
        MessageDeduplicationId: deployJob.id,
      }),
    );
    const messages = await receiveMessages(queueUrl, { max: 10 });
    assert.deepEqual(
      messages.map((m) => m.Attributes?.MessageGroupId).sort(),
      [`${app}/staging/app`, 'plan/shop/7'].sort(),
      'two groups: one does not wait for the other',
    );
    const plan = messages.filter((m) => m.Attributes?.MessageGroupId === 'plan/shop/7');
    const response = await invokeWorker(queueUrl, { config, table }, sqsEvent(queueUrl, plan));
    assert.deepEqual(response.batchItemFailures, []);

    assert.deepEqual(contract.violations, []);
    const [comment, ...more] = contract.pulls.get(7)?.comments ?? [];
    assert.equal(more.length, 0, 'one comment');
    assert.match(comment?.body ?? '', /^<!-- ferry:plan -->\n/);
    assert.match(
      comment?.body ?? '',
      new RegExp(`📝 ${app}/staging at \`${head.slice(0, 7)}\`: 1 to create`),
    );
    const statuses = contract.statuses.filter((s) => s.context === `ferry/plan/${app}/staging`);
    assert.deepEqual(
      statuses.map((s) => [s.sha, s.state, s.description]),
      [
        [head, 'pending', 'plan queued'],
        [head, 'pending', 'planning'],
        [head, 'success', '1 to create'],
      ],
    );
    assert.deepEqual(contract.deployments, [], 'a plan makes no GitHub Deployment');
    const files = contract.requests.filter((r) => r.path === `/api/v3/repos/tests/${repo}/pulls/7/files`);
    assert.equal(files.length, 1, "the pull request's files read from the API");
  });
});
