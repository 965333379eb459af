import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bitbucket } from '../../functions/core/intake/bitbucket.ts';
import { bitbucketServer } from '../../functions/core/intake/bitbucket-server.ts';
import { gitea } from '../../functions/core/intake/gitea.ts';
import { github } from '../../functions/core/intake/github.ts';
import { gitlab } from '../../functions/core/intake/gitlab.ts';
import {
  type JsonObject,
  MalformedPush,
  type PushEvent,
  repositoryKey,
} from '../../functions/core/intake/normalise.ts';
import type { ProviderSpec } from '../../functions/core/intake/provider-spec.ts';
import { githubPushExamples, webhookFixture } from '../support/webhooks.ts';

/** The one ref update of a GitHub, GitLab or Gitea push. */
function pushOf(spec: ProviderSpec, payload: JsonObject): PushEvent {
  const pushes = spec.normalise(payload);
  assert.equal(pushes.length, 1);
  return pushes[0] as PushEvent;
}

const ZERO = '0000000000000000000000000000000000000000';

describe('repository URLs', () => {
  test('clone URL, web URL, case, trailing slash and credentials name one repository', () => {
    const key = repositoryKey('https://github.com/Acme/Shop.git');
    assert.equal(key, 'github.com/acme/shop');
    for (const url of [
      'https://github.com/acme/shop',
      'https://GitHub.com/acme/shop/',
      'http://github.com/acme/shop.git',
      'https://x-access-token:t@github.com/acme/shop.git',
      'https://github.com:443/acme/shop',
    ]) {
      assert.equal(repositoryKey(url), key, url);
    }
  });

  test('other hosts, ports, paths and non-HTTP URLs differ', () => {
    assert.notEqual(
      repositoryKey('https://github.com/acme/shop-api'),
      repositoryKey('https://github.com/acme/shop'),
    );
    assert.notEqual(
      repositoryKey('https://git.example.com:8443/acme/shop'),
      repositoryKey('https://git.example.com/acme/shop'),
    );
    assert.equal(repositoryKey('git@github.com:acme/shop.git'), undefined);
    assert.equal(repositoryKey('not a url'), undefined);
  });
});

describe('GitHub pushes', () => {
  test('every push example normalises', () => {
    const examples = githubPushExamples();
    assert.ok(examples.length >= 7);
    for (const { name, payload } of examples) {
      const push = pushOf(github, payload);
      assert.match(push.repository, /^(github\.com|octocoders\.github\.io)\/codertocat\/hello-world$/, name);
      assert.equal(push.ref, payload.ref);
      assert.equal(push.deleted, payload.deleted);
      assert.equal(push.created, payload.created);
      if (push.deleted) {
        assert.equal(push.commit, undefined);
      } else {
        assert.equal(push.commit, (payload.head_commit as { id: string }).id);
        // A created ref has no diff against what is deployed: every path counts as changed.
        assert.equal(push.changedPathsComplete, false);
      }
      assert.equal(push.refKind, String(payload.ref).startsWith('refs/tags/') ? 'tag' : 'branch');
    }
  });

  const base = {
    ref: 'refs/heads/main',
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    created: false,
    deleted: false,
    forced: false,
    repository: { clone_url: 'https://github.com/acme/shop.git', html_url: 'https://github.com/acme/shop' },
    head_commit: { id: 'b'.repeat(40) },
    commits: [
      { id: 'c'.repeat(40), added: ['a.txt'], modified: ['deploy/app.yaml'], removed: [] },
      { id: 'b'.repeat(40), added: [], modified: ['deploy/app.yaml'], removed: ['old.txt'] },
    ],
  };

  test('collects the changed paths of every commit once', () => {
    const push = pushOf(github, base);
    assert.deepEqual(push.changedPaths, ['a.txt', 'deploy/app.yaml', 'old.txt']);
    assert.equal(push.changedPathsComplete, true);
    assert.equal(push.refName, 'main');
  });

  test('a forced push or a list of 2048 commits is incomplete', () => {
    assert.equal(pushOf(github, { ...base, forced: true }).changedPathsComplete, false);
    const commits = Array.from({ length: 2048 }, () => ({
      id: 'c'.repeat(40),
      added: [],
      modified: ['x'],
      removed: [],
    }));
    assert.equal(pushOf(github, { ...base, commits }).changedPathsComplete, false);
    assert.equal(pushOf(github, { ...base, commits: commits.slice(1) }).changedPathsComplete, true);
  });

  test('refuses a push without a ref or object ids', () => {
    assert.throws(() => pushOf(github, { ...base, ref: 'main' }), MalformedPush);
    assert.throws(() => pushOf(github, { ...base, after: 'HEAD' }), MalformedPush);
    assert.throws(() => pushOf(github, { ...base, commits: [{ added: 'a.txt' }] }), MalformedPush);
    assert.throws(() => pushOf(github, { ...base, repository: {} }), MalformedPush);
  });
});

describe('GitLab pushes', () => {
  test('a branch push', () => {
    const push = pushOf(gitlab, webhookFixture('gitlab-push.json'));
    assert.deepEqual(
      { ...push, changedPaths: [...push.changedPaths].sort() },
      {
        provider: 'gitlab',
        repository: 'gitlab.example.com/acme/platform',
        ref: 'refs/heads/main',
        refKind: 'branch',
        refName: 'main',
        before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
        after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        created: false,
        deleted: false,
        forced: false,
        changedPaths: [
          'charts/ingress/old-values.yaml',
          'charts/ingress/values-staging.yaml',
          'charts/ingress/values.yaml',
        ],
        changedPathsComplete: true,
      },
    );
  });

  test('an annotated tag deploys its commit (checkout_sha), not the tag object', () => {
    const push = pushOf(gitlab, webhookFixture('gitlab-tag-push.json'));
    assert.equal(push.refKind, 'tag');
    assert.equal(push.refName, 'v1.4.0');
    assert.equal(push.after, '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7');
    assert.equal(push.commit, 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
    assert.equal(push.created, true);
  });

  test('a branch deletion', () => {
    const push = pushOf(gitlab, webhookFixture('gitlab-branch-deletion.json'));
    assert.equal(push.deleted, true);
    assert.equal(push.commit, undefined);
  });

  test('more commits than listed (at most 20) make the list incomplete', () => {
    const payload = webhookFixture('gitlab-push.json');
    assert.equal(pushOf(gitlab, { ...payload, total_commits_count: 45 }).changedPathsComplete, false);
    assert.equal(pushOf(gitlab, { ...payload, total_commits_count: undefined }).changedPathsComplete, false);
  });

  test('push kinds, system hooks included', () => {
    const push = webhookFixture('gitlab-push.json');
    assert.equal(gitlab.kind('Push Hook', push), 'push');
    assert.equal(gitlab.kind('System Hook', push), 'push');
    assert.equal(gitlab.kind('Tag Push Hook', webhookFixture('gitlab-tag-push.json')), 'push');
    assert.equal(gitlab.kind('Merge Request Hook', { object_kind: 'merge_request' }), 'pull-request');
    assert.equal(gitlab.kind('System Hook', { object_kind: 'merge_request' }), 'other');
    assert.equal(gitlab.kind('System Hook', { event_name: 'project_create' }), 'other');
  });
});

describe('Gitea pushes', () => {
  test('a branch push', () => {
    const push = pushOf(gitea, webhookFixture('gitea-push.json'));
    assert.equal(push.repository, 'gitea.example.com/acme/infra');
    assert.equal(push.commit, '7c1d9e0f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d');
    assert.deepEqual(push.changedPaths, ['operators/kustomization.yaml']);
    assert.equal(push.changedPathsComplete, true);
  });

  test('a truncated list, or one without total_commits, is incomplete', () => {
    const payload = webhookFixture('gitea-push.json');
    assert.equal(pushOf(gitea, { ...payload, total_commits: 9 }).changedPathsComplete, false);
    assert.equal(pushOf(gitea, { ...payload, total_commits: undefined }).changedPathsComplete, false);
  });

  test('a deletion', () => {
    const payload = webhookFixture('gitea-push.json');
    const push = pushOf(gitea, { ...payload, after: ZERO, commits: [], head_commit: null });
    assert.equal(push.deleted, true);
    assert.equal(push.commit, undefined);
  });
});

describe('Bitbucket Cloud pushes', () => {
  const payload = webhookFixture('bitbucket-push.json');
  const [change] = (payload.push as { changes: Record<string, unknown>[] }).changes;
  const withChanges = (...changes: unknown[]) => ({ ...payload, push: { changes } });

  test('a branch push: its repository and ref, every path counted as changed', () => {
    assert.deepEqual(bitbucket.normalise(payload), [
      {
        provider: 'bitbucket',
        repository: 'bitbucket.org/acme/storefront',
        ref: 'refs/heads/main',
        refKind: 'branch',
        refName: 'main',
        before: '9109994e0e8e47a53cb9063b39acde37f6df0189',
        after: 'f7e0e62f41db716c8beffeff1b6d2043cd08f639',
        commit: 'f7e0e62f41db716c8beffeff1b6d2043cd08f639',
        created: false,
        deleted: false,
        forced: false,
        changedPaths: [],
        changedPathsComplete: false,
      },
    ]);
  });

  test('one push of several refs: a created tag and a deleted branch', () => {
    const tag = { ...change, old: null, new: { type: 'tag', name: 'v2', target: { hash: 'e'.repeat(40) } } };
    const deletion = { ...change, new: null, closed: true };
    const [created, deleted] = bitbucket.normalise(withChanges(tag, deletion));
    assert.deepEqual(
      [created?.ref, created?.created, created?.commit],
      ['refs/tags/v2', true, 'e'.repeat(40)],
    );
    assert.deepEqual([deleted?.ref, deleted?.deleted, deleted?.commit], ['refs/heads/main', true, undefined]);
  });

  test('refuses a change of the wrong shape, naming the field', () => {
    const refused = (value: Record<string, unknown>, message: string) =>
      assert.throws(() => bitbucket.normalise(value), { name: 'MalformedPush', message });
    refused({ ...payload, push: [] }, '"push" is not an object');
    refused(withChanges([]), '"push.changes[0]" is not an object');
    refused(
      withChanges({ ...change, old: null, new: null }),
      '"push.changes[0]" has neither "old" nor "new"',
    );
    refused(
      withChanges({ ...change, new: { type: 'branch', name: 'main', target: { hash: 'a'.repeat(64) } } }),
      '"push.changes[0].new.target.hash" is a SHA-256 object id: SHA-256 repositories are not supported',
    );
  });
});

describe('Bitbucket Data Center pushes', () => {
  const payload = webhookFixture('bitbucket-server-push.json');

  test('a branch push: the HTTP clone URL names the repository', () => {
    const [push] = bitbucketServer.normalise(payload);
    assert.equal(push?.repository, 'bitbucket.example.com/scm/acme/payments');
    assert.equal(push?.ref, 'refs/heads/main');
    assert.equal(push?.commit, 'd56737a61474f1797ef4eebc0ea556f8ab865948');
    assert.equal(push?.changedPathsComplete, false);
  });

  test('created and deleted refs, and the test connection', () => {
    const [change] = payload.changes as Record<string, unknown>[];
    const [added, removed] = bitbucketServer.normalise({
      ...payload,
      changes: [
        { ...change, refId: 'refs/tags/v3', fromHash: ZERO, type: 'ADD' },
        { ...change, toHash: ZERO, type: 'DELETE' },
      ],
    });
    assert.deepEqual([added?.refKind, added?.created, added?.deleted], ['tag', true, false]);
    assert.deepEqual([removed?.deleted, removed?.commit], [true, undefined]);
    assert.equal(
      bitbucketServer.kind('diagnostics:ping', webhookFixture('bitbucket-server-ping.json')),
      'ping',
    );
    assert.throws(() => bitbucketServer.normalise({ ...payload, changes: [{ ...change, refId: 7 }] }), {
      message: '"changes[0].refId" is not a full ref',
    });
  });
});
