// The GitLab reporter's requests, checked by a loopback contract server against the parameters GitLab documents
// for "Set the pipeline status of a commit" (`POST /projects/:id/statuses/:sha`), with GitLab's documented
// answers and its refusal of a state a status already holds. This is a contract check, not GitLab: it proves
// that each request is one the documentation describes (path, the encoded project path, required `state` and
// its values, the 255-character fields, the token header), not what a GitLab server does beyond that.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GitLabReporter } from '../../functions/adapters/status/gitlab.ts';
import type { RepositoryConfig } from '../../functions/core/config.ts';
import { classify } from '../../functions/core/errors.ts';
import { type CommitState, statusContext } from '../../functions/core/model/feedback.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import type { PostedStatus } from '../../functions/core/ports.ts';
import { type GitLabContract, hostFailure, startGitLabContract } from '../support/status-contract.ts';

const TOKEN = 'glpat-contractToken0123456789';
const key: PartKey = { app: 'platform', environment: 'production', part: 'app' };
const sha = (n: number) => n.toString(16).padStart(40, 'b');

function posted(commit: string, state: CommitState, extra: Partial<PostedStatus> = {}): PostedStatus {
  return {
    key,
    commit,
    ref: 'refs/tags/v1.4.0',
    state,
    description: `${state} description`,
    context: statusContext(key),
    ...extra,
  };
}

let host: GitLabContract;
let repository: RepositoryConfig;
const reporter = new GitLabReporter({ timeoutMs: 2_000 });

before(async () => {
  // A project in a subgroup: its path must reach GitLab URL-encoded, as one segment.
  host = await startGitLabContract({ project: 'acme/infra/platform', projectId: 17, token: TOKEN });
  repository = {
    name: 'platform',
    url: `${host.url}/acme/infra/platform.git`,
    provider: 'gitlab',
    webhookSecret: 'unused',
  };
});
after(() => host.close());

const failureOf = (call: Promise<unknown>) => hostFailure(call, TOKEN);

describe('GitLab commit statuses, against the documented parameters', () => {
  test('queued, running, then success: one external job, updated; the tag as its ref', async () => {
    const commit = sha(1);
    const link = 'http://127.0.0.1:8080/status';
    for (const state of ['pending', 'running', 'success'] as const)
      await reporter.post(repository, TOKEN, posted(commit, state, { targetUrl: link }));
    assert.deepEqual(host.violations, []);
    assert.deepEqual(
      host.statuses.filter((s) => s.sha === commit).map((s) => [s.name, s.ref, s.status, s.target_url]),
      [['ferry/platform/production', 'v1.4.0', 'success', link]],
    );
    assert.ok(
      host.requests.every(
        (r) => r.path === `/api/v4/projects/acme%2Finfra%2Fplatform/statuses/${r.path.slice(-40)}`,
      ),
    );
    assert.ok(host.requests.every((r) => r.headers['private-token'] === TOKEN));
  });

  test('each of Ferry states maps to one of GitLab', async () => {
    const states: [CommitState, string][] = [
      ['failure', 'failed'],
      ['superseded', 'canceled'],
      ['out-of-sync', 'failed'],
    ];
    for (const [state, expected] of states) {
      const commit = sha(10 + states.findIndex(([s]) => s === state));
      await reporter.post(repository, TOKEN, posted(commit, state));
      assert.equal(host.statuses.findLast((s) => s.sha === commit)?.status, expected);
    }
    assert.deepEqual(host.violations, []);
  });

  test('a state posted again (a retry, a second queued) is already there, not a failure', async () => {
    const commit = sha(2);
    await reporter.post(repository, TOKEN, posted(commit, 'pending'));
    await reporter.post(repository, TOKEN, posted(commit, 'pending'));
    await reporter.post(repository, TOKEN, posted(commit, 'running'));
    await reporter.post(repository, TOKEN, posted(commit, 'running'));
    const answers = host.requests.filter((r) => r.path.endsWith(commit)).length;
    assert.equal(answers, 4);
    assert.deepEqual(
      host.statuses.filter((s) => s.sha === commit).map((s) => s.status),
      ['running'],
    );
  });

  test("fields over GitLab's 255 characters are left out or cut rather than refused", async () => {
    const commit = sha(3);
    const long = `https://example.com/${'x'.repeat(300)}`;
    await reporter.post(
      repository,
      TOKEN,
      posted(commit, 'success', { targetUrl: long, description: 'd'.repeat(400) }),
    );
    assert.deepEqual(host.violations, []);
    const [status] = host.statuses.filter((s) => s.sha === commit);
    assert.equal(status?.target_url, null);
    assert.equal(status?.description?.length, 255);
  });
});

describe('a GitLab under a relative URL root', () => {
  test('statuses go to the configured apiUrl, for the project named after the root', async (t) => {
    const rooted = await startGitLabContract({
      project: 'acme/platform',
      projectId: 21,
      token: TOKEN,
      root: '/gitlab',
    });
    t.after(() => rooted.close());
    const under: RepositoryConfig = {
      ...repository,
      url: `${rooted.url}/gitlab/acme/platform.git`,
      apiUrl: `${rooted.url}/gitlab/api/v4`,
    };
    const commit = sha(4);
    await reporter.post(under, TOKEN, posted(commit, 'success'));
    assert.deepEqual(rooted.violations, []);
    assert.deepEqual(
      rooted.statuses.map((s) => [s.sha, s.status]),
      [[commit, 'success']],
    );
    // Without the apiUrl, the root is taken for a group: GitLab has no such project.
    const refused = await failureOf(
      reporter.post({ ...under, apiUrl: undefined }, TOKEN, posted(commit, 'failure')),
    );
    assert.equal(classify(refused), 'configuration');
  });

  test("a clone URL outside the apiUrl's root is refused, naming the form expected", async () => {
    const outside = {
      ...repository,
      url: 'https://git.example.com/acme/platform.git',
      apiUrl: 'https://git.example.com/gitlab/api/v4',
    };
    const refused = await failureOf(reporter.post(outside, TOKEN, posted(sha(5), 'success')));
    assert.equal(classify(refused), 'configuration');
    assert.match(refused.message, /expected https:\/\/<host>\/gitlab\/<group>/);
  });
});

describe("GitLab's refusals", () => {
  test('a refused token and an unknown project are configuration failures, with the answer', async () => {
    const refused = await failureOf(reporter.post(repository, 'glpat-wrong', posted(sha(4), 'success')));
    assert.equal(classify(refused), 'configuration');
    assert.match(refused.message, /GitLab answered 401 .*401 Unauthorized/);
    const other = { ...repository, url: `${host.url}/acme/other.git` };
    const missing = await failureOf(reporter.post(other, TOKEN, posted(sha(4), 'success')));
    assert.equal(classify(missing), 'configuration');
    assert.match(missing.message, /404 Project Not Found/);
  });

  test('429 and 5xx are transient; an answer that echoes the token has it replaced', async () => {
    host.answerNext({ status: 429, body: { message: 'Retry later' }, headers: { 'retry-after': '30' } });
    assert.equal(
      classify(await failureOf(reporter.post(repository, TOKEN, posted(sha(5), 'success')))),
      'transient',
    );
    host.answerNext({ status: 502, body: { message: `bad gateway for PRIVATE-TOKEN ${TOKEN}` } });
    const echoed = await failureOf(reporter.post(repository, TOKEN, posted(sha(5), 'success')));
    assert.equal(classify(echoed), 'transient');
    assert.match(echoed.message, /PRIVATE-TOKEN \[token\]/);
  });
});

describe('the contract check fails what the documentation does not allow', () => {
  const raw = (path: string, body: unknown) =>
    fetch(`${host.url}/api/v4${path}`, {
      method: 'POST',
      headers: { 'private-token': TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test("GitHub's state names, a misspelt field, an unencoded project path, no state", async () => {
    const before = host.violations.length;
    assert.equal((await raw(`/projects/17/statuses/${sha(6)}`, { state: 'failure' })).status, 400);
    assert.equal(
      (await raw(`/projects/17/statuses/${sha(6)}`, { state: 'success', targetUrl: 'x' })).status,
      400,
    );
    assert.equal(
      (await raw(`/projects/acme/infra/platform/statuses/${sha(6)}`, { state: 'success' })).status,
      404,
    );
    assert.equal((await raw(`/projects/17/statuses/${sha(6)}`, { name: 'x' })).status, 400);
    const found = host.violations.splice(before);
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0] ?? '', /"failure" is not one of/);
    assert.match(found[1] ?? '', /targetUrl: not a field/);
    assert.match(found[2] ?? '', /not POST \/api\/v4\/projects\/:id\/statuses\/:sha/);
    assert.match(found[3] ?? '', /state: required, missing/);
  });
});
