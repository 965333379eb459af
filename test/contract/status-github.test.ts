// The GitHub reporter's requests, checked against GitHub's published OpenAPI description (from
// `@octokit/openapi`) by a loopback contract server. This is a contract check, not GitHub: it proves that every
// request Ferry makes is one the description allows (method, path, parameters, required fields, the `state`
// enums, authentication) and that Ferry reads GitHub's documented answers; it cannot prove what GitHub does
// beyond its description.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GitHubReporter } from '../../functions/adapters/status/github.ts';
import type { RepositoryConfig } from '../../functions/core/config.ts';
import { classify } from '../../functions/core/errors.ts';
import { type CommitState, statusContext } from '../../functions/core/model/feedback.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import type { PostedStatus } from '../../functions/core/ports.ts';
import { type GitHubContract, hostFailure, startGitHubContract } from '../support/status-contract.ts';

const TOKEN = 'ghp_contractToken0123456789abcdefghijklmn';
const app: PartKey = { app: 'shop', environment: 'staging', part: 'app' };
const config: PartKey = { ...app, part: 'config' };
const sha = (n: number) => n.toString(16).padStart(40, 'a');

function posted(
  key: PartKey,
  commit: string,
  state: CommitState,
  extra: Partial<PostedStatus> = {},
): PostedStatus {
  return {
    key,
    commit,
    ref: 'refs/heads/main',
    state,
    description: `${state} description`,
    context: statusContext(key),
    ...extra,
  };
}

let host: GitHubContract;
let repository: RepositoryConfig;
const reporter = new GitHubReporter({ timeoutMs: 2_000 });

before(async () => {
  host = await startGitHubContract({ owner: 'acme', repo: 'shop', token: TOKEN });
  repository = {
    name: 'shop',
    url: `${host.url}/acme/shop.git`,
    provider: 'github',
    webhookSecret: 'unused',
  };
});
after(() => host.close());

const failureOf = (call: Promise<unknown>) => hostFailure(call, TOKEN);

describe('GitHub commit statuses and deployments, against the OpenAPI description', () => {
  test("a part's life on a commit: queued, deploying, deployed; one deployment with its statuses", async () => {
    const commit = sha(1);
    const link = 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:x';
    for (const state of ['pending', 'running', 'success'] as const)
      await reporter.post(repository, TOKEN, posted(app, commit, state, { targetUrl: link }));
    assert.deepEqual(host.violations, []);
    assert.deepEqual(
      host.statuses
        .filter((s) => s.sha === commit)
        .map((s) => [s.state, s.context, s.description, s.target_url]),
      [
        ['pending', 'ferry/shop/staging', 'pending description', link],
        ['pending', 'ferry/shop/staging', 'running description', link],
        ['success', 'ferry/shop/staging', 'success description', link],
      ],
    );
    const deployments = host.deployments.filter((d) => d.sha === commit);
    assert.equal(deployments.length, 1, 'one deployment per commit and environment');
    assert.equal(deployments[0]?.environment, 'shop/staging');
    assert.deepEqual(
      deployments[0]?.statuses.map((s) => [s.state, s.log_url]),
      [
        ['queued', link],
        ['in_progress', link],
        ['success', link],
      ],
    );
    const auth = host.requests.map((r) => r.headers.authorization);
    assert.ok(auth.every((a) => a === `token ${TOKEN}`));
  });

  test('the configuration part has its own context and environment; a failure fails both', async () => {
    const commit = sha(2);
    await reporter.post(repository, TOKEN, posted(config, commit, 'running'));
    await reporter.post(repository, TOKEN, posted(config, commit, 'failure', { description: 'rejected: x' }));
    assert.deepEqual(host.violations, []);
    assert.deepEqual(
      host.statuses.filter((s) => s.sha === commit).map((s) => [s.state, s.context]),
      [
        ['pending', 'ferry/shop/staging/config'],
        ['failure', 'ferry/shop/staging/config'],
      ],
    );
    const [deployment] = host.deployments.filter((d) => d.sha === commit);
    assert.equal(deployment?.environment, 'shop/staging/config');
    assert.deepEqual(
      deployment?.statuses.map((s) => s.state),
      ['in_progress', 'failure'],
    );
  });

  test('a superseded commit is success on the commit; its deployment, if any, inactive; none is created', async () => {
    const queued = sha(3);
    const never = sha(4);
    await reporter.post(repository, TOKEN, posted(app, queued, 'pending'));
    await reporter.post(
      repository,
      TOKEN,
      posted(app, queued, 'superseded', { description: 'superseded by 1234567' }),
    );
    await reporter.post(repository, TOKEN, posted(app, never, 'superseded'));
    assert.deepEqual(host.violations, []);
    assert.deepEqual(
      host.statuses.filter((s) => s.sha === queued || s.sha === never).map((s) => [s.sha, s.state]),
      [
        [queued, 'pending'],
        [queued, 'success'],
        [never, 'success'],
      ],
    );
    assert.deepEqual(
      host.deployments.find((d) => d.sha === queued)?.statuses.map((s) => s.state),
      ['queued', 'inactive'],
    );
    assert.equal(
      host.deployments.find((d) => d.sha === never),
      undefined,
    );
  });

  test('drift fails the commit status and leaves the deployment as it is', async () => {
    const commit = sha(5);
    await reporter.post(repository, TOKEN, posted(app, commit, 'success'));
    await reporter.post(
      repository,
      TOKEN,
      posted(app, commit, 'out-of-sync', { description: 'OutOfSync: 2 object(s) drifted' }),
    );
    assert.deepEqual(host.violations, []);
    assert.deepEqual(
      host.statuses.filter((s) => s.sha === commit).map((s) => s.state),
      ['success', 'failure'],
    );
    assert.deepEqual(
      host.deployments.find((d) => d.sha === commit)?.statuses.map((s) => s.state),
      ['success'],
    );
  });

  test('a deployment made by another process is found by commit and environment, not made again', async () => {
    const commit = sha(6);
    await new GitHubReporter().post(repository, TOKEN, posted(app, commit, 'pending'));
    await new GitHubReporter().post(repository, TOKEN, posted(app, commit, 'running'));
    assert.equal(host.deployments.filter((d) => d.sha === commit).length, 1);
    const listed = host.requests.filter((r) => r.method === 'GET' && r.query.sha === commit);
    assert.deepEqual(listed[0]?.query, {
      sha: commit,
      environment: 'shop/staging',
      task: 'deploy',
      per_page: '1',
    });
  });
});

describe("GitHub's refusals, as Failures of their class, with GitHub's answer and never the token", () => {
  test('a refused token and an unknown repository are configuration failures, not tried again', async () => {
    const refused = await failureOf(reporter.post(repository, 'ghp_wrong', posted(app, sha(7), 'success')));
    assert.equal(classify(refused), 'configuration');
    assert.match(refused.message, /GitHub answered 401 .*Bad credentials/);
    const other = { ...repository, url: `${host.url}/acme/elsewhere.git` };
    const missing = await failureOf(reporter.post(other, TOKEN, posted(app, sha(7), 'success')));
    assert.equal(classify(missing), 'configuration');
    assert.match(
      missing.message,
      /404 to POST \/api\/v3\/repos\/acme\/elsewhere\/statuses\/a+7: .*Not Found/,
    );
  });

  test('rate limits (403 with no requests left, 429) and 5xx are transient', async () => {
    host.answerNext(
      {
        status: 403,
        body: { message: 'API rate limit exceeded for user ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000000' },
      },
      2,
    );
    const limited = await failureOf(reporter.post(repository, TOKEN, posted(app, sha(8), 'success')));
    assert.equal(classify(limited), 'transient');
    assert.match(limited.message, /rate limit exceeded/);
    host.answerNext(
      { status: 429, body: { message: 'secondary rate limit' }, headers: { 'retry-after': '60' } },
      2,
    );
    assert.equal(
      classify(await failureOf(reporter.post(repository, TOKEN, posted(app, sha(8), 'success')))),
      'transient',
    );
    host.answerNext({ status: 503, body: { message: 'Service Unavailable' } }, 2);
    assert.equal(
      classify(await failureOf(reporter.post(repository, TOKEN, posted(app, sha(8), 'success')))),
      'transient',
    );
  });

  test('a host that is down, or does not answer in time, is transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = { ...repository, url: `http://127.0.0.1:${port}/acme/shop.git` };
    const unreachable = await failureOf(reporter.post(down, TOKEN, posted(app, sha(9), 'success')));
    assert.equal(classify(unreachable), 'transient');
    assert.match(unreachable.message, /could not be reached .*ECONNREFUSED/);

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hanging = {
      ...repository,
      url: `http://127.0.0.1:${(silent.address() as { port: number }).port}/acme/shop.git`,
    };
    const started = Date.now();
    const timedOut = await failureOf(
      new GitHubReporter({ timeoutMs: 300 }).post(hanging, TOKEN, posted(app, sha(9), 'success')),
    );
    assert.ok(Date.now() - started < 2_000, 'bounded by the timeout');
    assert.equal(classify(timedOut), 'transient');
    silent.close();
  });

  test('no token, no requests: no host takes statuses from anyone', async () => {
    const before = host.requests.length;
    await reporter.post(repository, undefined, posted(app, sha(10), 'success'));
    assert.equal(host.requests.length, before);
  });
});

describe('the contract check fails what the description does not allow', () => {
  const raw = (method: string, path: string, body?: unknown) =>
    fetch(`${host.url}/api/v3${path}`, {
      method,
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json', 'user-agent': 'test' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test('a state GitHub does not have, a misspelt field, a wrong path, a missing required field', async () => {
    const before = host.violations.length;
    const wrongState = await raw('POST', `/repos/acme/shop/statuses/${sha(11)}`, {
      state: 'running',
      context: 'c',
    });
    assert.equal(wrongState.status, 422);
    const misspelt = await raw('POST', `/repos/acme/shop/statuses/${sha(11)}`, {
      state: 'success',
      targetUrl: 'x',
    });
    assert.equal(misspelt.status, 422);
    const wrongPath = await raw('POST', `/repos/acme/shop/status/${sha(11)}`, { state: 'success' });
    assert.equal(wrongPath.status, 404);
    const noRef = await raw('POST', '/repos/acme/shop/deployments', { environment: 'x' });
    assert.equal(noRef.status, 422);
    const wrongDeploymentState = await raw('POST', '/repos/acme/shop/deployments/1/statuses', {
      state: 'running',
    });
    assert.equal(wrongDeploymentState.status, 422);
    const found = host.violations.splice(before);
    assert.equal(found.length, 5, found.join('\n'));
    assert.match(found[0] ?? '', /"running" is not one of \["error","failure","pending","success"\]/);
    assert.match(found[1] ?? '', /targetUrl: not a field the description names/);
    assert.match(found[2] ?? '', /no such path/);
    assert.match(found[3] ?? '', /body\.ref: required, missing/);
    assert.match(found[4] ?? '', /"running" is not one of/);
  });
});
