// The GitLab merge request adapter's requests, checked by a loopback contract server against the parameters
// GitLab documents for the merge request Notes API (list, create, modify a note), "List merge request diffs" and
// "Get the current user". This is a contract check, not GitLab: it proves that each request is one the
// documentation describes (paths with the URL-encoded project path, methods, parameters and their values, the
// note's body and its 1,000,000-character limit, the token header), not what a GitLab server does beyond that.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GitLabPullRequests } from '../../functions/adapters/comments/gitlab.ts';
import type { RepositoryConfig } from '../../functions/core/config.ts';
import { classify, Failure } from '../../functions/core/errors.ts';
import { assembleComment, commentMarker, renderSection } from '../../functions/core/plan/comment.ts';
import type { PartPlan } from '../../functions/core/plan/model.ts';
import { type GitLabPlanContract, startGitLabPlanContract } from '../support/plan-contract.ts';

const TOKEN = 'glpat-contractToken0123456789';
const HEAD = 'd'.repeat(40);
let host: GitLabPlanContract;
let repository: RepositoryConfig;
const adapter = new GitLabPullRequests({ timeoutMs: 2_000 });
const marker = commentMarker(adapter.dialect);

before(async () => {
  // A project in a subgroup: its path must reach GitLab URL-encoded, as one segment.
  host = await startGitLabPlanContract({
    project: 'acme/infra/platform',
    projectId: 17,
    token: TOKEN,
    username: 'ferry-bot',
  });
  repository = {
    name: 'platform',
    url: `${host.url}/acme/infra/platform.git`,
    provider: 'gitlab',
    webhookSecret: 'unused',
  };
});
after(() => host.close());

const plan: PartPlan = {
  key: { app: 'platform', environment: 'production', part: 'app' },
  commit: HEAD,
  changes: [
    {
      ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platform', name: 'settings' },
      action: 'change',
      changes: [{ path: '/data/mode', live: 'one', desired: 'two' }],
    },
  ],
  unchanged: 3,
  hooks: [],
  prune: [],
  budget: { limit: undefined, candidates: 0 },
  refusals: [],
  notes: [],
};

const body = (commit = HEAD) =>
  assembleComment(
    { sections: [renderSection({ ...plan, commit }, adapter.dialect)], commit },
    adapter.dialect,
  );

describe('GitLab merge requests, against the documented parameters', () => {
  test("a merge request's files from its diffs, page by page", async () => {
    const files = Array.from({ length: 130 }, (_, i) => `deploy/f${i}.yaml`);
    host.mergeRequests.set(4, { comments: [], files, system: [] });
    assert.deepEqual(await adapter.changedFiles(repository, TOKEN, 4), files);
    assert.deepEqual(host.violations, []);
    const pages = host.requests.filter((r) => r.path.endsWith('/merge_requests/4/diffs'));
    assert.deepEqual(
      pages.map((r) => [r.path, r.query]),
      [1, 2].map((page) => [
        '/api/v4/projects/acme%2Finfra%2Fplatform/merge_requests/4/diffs',
        { per_page: '100', page: String(page) },
      ]),
    );
    assert.ok(pages.every((r) => r.headers['private-token'] === TOKEN));
  });

  test("Ferry's note: created once, found again past GitLab's system notes and others' quotes, edited in place", async () => {
    host.mergeRequests.set(5, {
      comments: [{ id: 90, body: `${marker}\nquoted by someone`, user: 'ada' }],
      files: [],
      system: Array.from({ length: 100 }, (_, i) => `added ${i + 1} commit`),
    });
    assert.equal(await adapter.findComment(repository, TOKEN, 5, marker), undefined);
    await adapter.createComment(repository, TOKEN, 5, body());
    const found = await adapter.findComment(repository, TOKEN, 5, marker);
    assert.ok(found);
    await adapter.updateComment(repository, TOKEN, 5, found, body('e'.repeat(40)));
    assert.deepEqual(host.violations, []);
    const mine = host.mergeRequests.get(5)?.comments.filter((c) => c.user === 'ferry-bot') ?? [];
    assert.equal(mine.length, 1);
    assert.match(mine[0]?.body ?? '', /platform\/production at `eeeeeee`: 1 to change/);
    const listed = host.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/notes'));
    assert.deepEqual(listed[0]?.query, { sort: 'asc', order_by: 'created_at', per_page: '100', page: '1' });
    assert.ok(host.requests.some((r) => r.method === 'PUT' && r.path.endsWith(`/notes/${mine[0]?.id}`)));
  });

  test('a refused token is a configuration failure and an unknown project too; the token never shows', async () => {
    const refused = await adapter.createComment(repository, 'glpat-wrong', 5, 'x').catch((e: unknown) => e);
    assert.ok(refused instanceof Failure);
    assert.equal(classify(refused), 'configuration');
    const other = { ...repository, url: `${host.url}/acme/other.git` };
    const missing = await adapter.findComment(other, TOKEN, 5, marker).catch((e: unknown) => e);
    assert.ok(missing instanceof Failure);
    assert.match(missing.message, /404 Project Not Found/);
    assert.doesNotMatch(missing.message, new RegExp(TOKEN));
  });
});

describe('the contract check fails what the documentation does not allow', () => {
  const raw = (method: string, path: string, payload?: unknown) =>
    fetch(`${host.url}/api/v4${path}`, {
      method,
      headers: { 'private-token': TOKEN, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });

  test("GitHub's field names, a body over a million characters, an unencoded project path, a bad sort", async () => {
    const before = host.violations.length;
    const notes = '/projects/17/merge_requests/5/notes';
    assert.equal((await raw('POST', notes, { text: 'x' })).status, 400);
    assert.equal((await raw('POST', notes, { body: 'x'.repeat(1_000_001) })).status, 400);
    assert.equal((await raw('GET', '/projects/acme/infra/platform/merge_requests/5/notes')).status, 404);
    assert.equal((await raw('GET', `${notes}?sort=newest`)).status, 400);
    const found = host.violations.splice(before);
    assert.equal(found.length, 5, found.join('\n'));
    assert.match(found.join('\n'), /text: not a field/);
    assert.match(found.join('\n'), /body: required, missing/);
    assert.match(found.join('\n'), /body: longer than 1000000 characters/);
    assert.match(found.join('\n'), /not an operation of GitLab's documented API/);
    assert.match(found.join('\n'), /"newest" is not one of/);
  });
});
