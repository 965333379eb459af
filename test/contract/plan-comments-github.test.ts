// The GitHub pull request adapter's requests, checked by a loopback contract server against GitHub's OpenAPI
// description (`@octokit/openapi`): listing a pull request's files and its conversation's comments page by
// page, who the token is, creating Ferry's comment and editing it in place. This is a contract check, not
// GitHub: it proves that each request is one the description allows (paths, methods, parameters, bodies,
// authentication, the API version) and that the adapter reads the documented answers, not what GitHub does
// beyond that.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { GitHubPullRequests } from '../../functions/adapters/comments/github.ts';
import type { RepositoryConfig } from '../../functions/core/config.ts';
import { classify } from '../../functions/core/errors.ts';
import {
  assembleComment,
  commentMarker,
  parseSections,
  renderSection,
} from '../../functions/core/plan/comment.ts';
import type { PartPlan } from '../../functions/core/plan/model.ts';
import {
  GITHUB_COMMENT_LENGTH,
  type GitHubPlanContract,
  startGitHubPlanContract,
} from '../support/plan-contract.ts';
import { hostFailure } from '../support/status-contract.ts';

const TOKEN = 'ghp_contractToken0123456789abcdefghijkl';
const HEAD = 'c'.repeat(40);
let host: GitHubPlanContract;
let repository: RepositoryConfig;
const adapter = new GitHubPullRequests({ timeoutMs: 2_000 });
const marker = commentMarker(adapter.dialect);

before(async () => {
  host = await startGitHubPlanContract({ owner: 'acme', repo: 'shop', token: TOKEN, login: 'ferry-bot' });
  repository = {
    name: 'shop',
    url: `${host.url}/acme/shop.git`,
    provider: 'github',
    webhookSecret: 'unused',
  };
});
after(() => host.close());

/** A plan of `objects` ConfigMaps to change, each with a long value: a comment as long as one likes. */
function planOf(objects: number, environment = 'staging'): PartPlan {
  return {
    key: { app: 'shop', environment, part: 'app' },
    commit: HEAD,
    changes: Array.from({ length: objects }, (_, i) => ({
      ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: `settings-${i}` },
      action: 'change' as const,
      changes: [{ path: '/data/message', live: 'x'.repeat(150), desired: 'y'.repeat(150) }],
    })),
    unchanged: 0,
    hooks: [],
    prune: [],
    budget: { limit: undefined, candidates: 0 },
    refusals: [],
    notes: [],
  };
}

const bodyOf = (...plans: PartPlan[]) =>
  assembleComment(
    { sections: plans.map((p) => renderSection(p, adapter.dialect)), commit: HEAD },
    adapter.dialect,
  );

const failureOf = (call: Promise<unknown>) => hostFailure(call, TOKEN);

describe('GitHub pull requests, against the OpenAPI description', () => {
  test("a pull request's files, page by page", async () => {
    const files = Array.from({ length: 150 }, (_, i) => `deploy/file-${i}.yaml`);
    host.pulls.set(7, { comments: [], files });
    const listed = await adapter.changedFiles(repository, TOKEN, 7);
    assert.deepEqual(listed, files);
    assert.deepEqual(host.violations, []);
    const pages = host.requests.filter((r) => r.path === '/api/v3/repos/acme/shop/pulls/7/files');
    assert.deepEqual(
      pages.map((r) => r.query),
      [
        { per_page: '100', page: '1' },
        { per_page: '100', page: '2' },
      ],
    );
    assert.ok(pages.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    assert.ok(pages.every((r) => r.headers['x-github-api-version'] === '2022-11-28'));
  });

  test('more files than ten pages: not every path is known, so every path counts', async () => {
    host.pulls.set(8, { comments: [], files: Array.from({ length: 1_001 }, (_, i) => `f${i}`) });
    assert.equal(await adapter.changedFiles(repository, TOKEN, 8), undefined);
    assert.deepEqual(host.violations, []);
  });

  test("Ferry's comment is created once, found again by its marker and its author, and edited in place", async () => {
    // Someone quoted Ferry's marker in a comment of their own, among many others.
    const others = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, body: `LGTM ${i}`, user: 'ada' }));
    others.push({ id: 200, body: `${marker}\nnot Ferry's`, user: 'mallory' });
    host.pulls.set(9, { comments: others, files: [] });
    assert.equal(await adapter.findComment(repository, TOKEN, 9, marker), undefined);
    await adapter.createComment(repository, TOKEN, 9, bodyOf(planOf(2)));
    const found = await adapter.findComment(repository, TOKEN, 9, marker);
    assert.ok(found);
    assert.deepEqual(
      parseSections(found.body, adapter.dialect).map((s) => s.id),
      ['shop/staging/app'],
    );
    await adapter.updateComment(repository, TOKEN, 9, found, bodyOf(planOf(1), planOf(1, 'production')));
    assert.deepEqual(host.violations, []);
    const mine = host.pulls.get(9)?.comments.filter((c) => c.user === 'ferry-bot') ?? [];
    assert.equal(mine.length, 1, 'one comment');
    assert.match(mine[0]?.body ?? '', /shop\/production at `ccccccc`/);
    const edits = host.requests.filter((r) => r.method === 'PATCH');
    assert.deepEqual(
      edits.map((r) => r.path),
      [`/api/v3/repos/acme/shop/issues/comments/${mine[0]?.id}`],
    );
    assert.equal(
      host.requests.filter((r) => r.path === '/api/v3/user').length,
      1,
      'who the token is, asked once',
    );
  });

  test("a plan longer than GitHub's 65,536 characters is cut to fit, saying where the whole plan is", async () => {
    host.pulls.set(10, { comments: [], files: [] });
    const body = bodyOf(planOf(400), planOf(40, 'production'));
    assert.ok(body.length <= GITHUB_COMMENT_LENGTH, `${body.length} characters`);
    assert.match(
      body,
      /… \d+ more line\(s\) cut: the comment must stay under 65,536 characters; `ferry plan shop\/staging c{40}` prints the whole plan/,
    );
    assert.match(body, /shop\/production at `ccccccc`: 40 to change/, 'the other part keeps its section');
    await adapter.createComment(repository, TOKEN, 10, body);
    assert.deepEqual(host.violations, []);
  });
});

describe("GitHub's refusals, as Failures of their class, never with the token", () => {
  test('a refused token is a configuration failure; a rate limit and a 5xx are transient', async () => {
    const refused = await failureOf(adapter.createComment(repository, 'ghp_wrong', 9, 'x'));
    assert.equal(classify(refused), 'configuration');
    assert.match(
      refused.message,
      /GitHub answered 401 to POST \/api\/v3\/repos\/acme\/shop\/issues\/9\/comments/,
    );
    host.answerNext({
      status: 429,
      body: { message: 'secondary rate limit' },
      headers: { 'retry-after': '30' },
    });
    assert.equal(classify(await failureOf(adapter.changedFiles(repository, TOKEN, 7))), 'transient');
    host.answerNext({ status: 502, body: { message: `bad gateway for ${TOKEN}` } });
    const echoed = await failureOf(adapter.findComment(repository, TOKEN, 7, marker));
    assert.equal(classify(echoed), 'transient');
  });

  test('a host that does not answer is given up on in bounded time', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hanging = {
      ...repository,
      url: `http://127.0.0.1:${(silent.address() as { port: number }).port}/acme/shop.git`,
    };
    const started = Date.now();
    const error = await failureOf(new GitHubPullRequests({ timeoutMs: 300 }).changedFiles(hanging, TOKEN, 1));
    assert.ok(Date.now() - started < 2_000, 'bounded by the timeout');
    assert.equal(classify(error), 'transient');
    silent.closeAllConnections();
    silent.close();
  });
});

describe('the contract check fails what the description does not allow', () => {
  const raw = (method: string, path: string, body?: unknown) =>
    fetch(`${host.url}/api/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'user-agent': 'test' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test('a misspelt field, a missing body, a wrong method, an unknown parameter, a body too long', async () => {
    host.pulls.set(11, { comments: [], files: [] });
    const before = host.violations.length;
    assert.equal((await raw('POST', '/repos/acme/shop/issues/11/comments', { text: 'x' })).status, 422);
    assert.equal((await raw('PATCH', '/repos/acme/shop/issues/comments/1000', {})).status, 422);
    assert.equal((await raw('PUT', '/repos/acme/shop/issues/comments/1000', { body: 'x' })).status, 404);
    assert.equal((await raw('GET', '/repos/acme/shop/pulls/11/files?perpage=50')).status, 422);
    const long = 'x'.repeat(GITHUB_COMMENT_LENGTH + 1);
    assert.equal((await raw('POST', '/repos/acme/shop/issues/11/comments', { body: long })).status, 422);
    const found = host.violations.splice(before);
    assert.equal(found.length, 6, found.join('\n'));
    assert.match(found.join('\n'), /text: not a field the description names/);
    assert.match(found.join('\n'), /body: required, missing/);
    assert.match(found.join('\n'), /takes no PUT/);
    assert.match(found.join('\n'), /the query parameter perpage is not in the description/);
    assert.match(found.join('\n'), /body is too long/);
  });
});
