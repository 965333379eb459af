import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import type { PushEvent } from '../../functions/core/intake/normalise.ts';
import { matchTriggers } from '../../functions/core/intake/triggers.ts';

const config = parseConfig({
  repositories: [
    { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: 's' },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy/base',
      environments: [
        { name: 'staging', cluster: 'main', namespace: 'shop', trigger: { branches: ['main'] } },
        {
          name: 'qa',
          cluster: 'main',
          namespace: 'shop-qa',
          trigger: { branches: ['main', 'release/*'], paths: ['deploy/**', 'charts/*.yaml'] },
          config: { path: 'config/qa' },
        },
        { name: 'production', cluster: 'main', namespace: 'shop', trigger: { tags: ['v*'] } },
        {
          name: 'paused',
          cluster: 'main',
          namespace: 'shop',
          trigger: { branches: ['main'] },
          suspend: true,
        },
        { name: 'manual', cluster: 'main', namespace: 'shop', trigger: { tags: ['v*'] }, autoSync: false },
        {
          name: 'config-only',
          cluster: 'main',
          namespace: 'shop',
          trigger: { branches: ['config-only'] },
          autoSync: false,
          config: { path: 'config/only' },
        },
      ],
    },
  ],
} satisfies ConfigInput);

function push(
  ref: string,
  changedPaths: string[],
  complete = true,
  extra: Partial<PushEvent> = {},
): PushEvent {
  const kind = ref.startsWith('refs/heads/') ? 'branch' : ref.startsWith('refs/tags/') ? 'tag' : 'other';
  return {
    provider: 'github',
    repository: 'github.com/acme/shop',
    ref,
    refKind: kind,
    refName: ref.replace(/^refs\/(heads|tags)\//, ''),
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    commit: 'b'.repeat(40),
    created: false,
    deleted: false,
    forced: false,
    changedPaths,
    changedPathsComplete: complete,
    ...extra,
  } as PushEvent;
}

const matched = (event: PushEvent) =>
  matchTriggers(config.apps, event).matches.map((m) => `${m.environment.name}:${m.parts.join('+')}`);

describe('trigger matching', () => {
  test('a branch pattern matches its branch only', () => {
    assert.deepEqual(matched(push('refs/heads/main', ['deploy/app.yaml'])), ['staging:app', 'qa:app']);
    assert.deepEqual(matched(push('refs/heads/develop', ['deploy/app.yaml'])), []);
    assert.deepEqual(matched(push('refs/heads/mainline', ['deploy/app.yaml'])), []);
  });

  test('release/* matches one level below release/', () => {
    assert.deepEqual(matched(push('refs/heads/release/1.4', ['deploy/app.yaml'])), ['qa:app']);
    assert.deepEqual(matched(push('refs/heads/release/1.4/hotfix', ['deploy/app.yaml'])), []);
  });

  test('a tag pattern matches tags, not branches of the same name', () => {
    assert.deepEqual(matched(push('refs/tags/v1.4.0', [], false)), ['production:app']);
    assert.deepEqual(matched(push('refs/heads/v1.4.0', ['deploy/app.yaml'])), []);
    assert.deepEqual(matched(push('refs/tags/1.4.0', [], false)), []);
  });

  test('path patterns filter a complete change list', () => {
    assert.deepEqual(matched(push('refs/heads/main', ['README.md'])), ['staging:app']);
    assert.deepEqual(matched(push('refs/heads/main', ['charts/values.yaml'])), ['staging:app', 'qa:app']);
    assert.deepEqual(matched(push('refs/heads/main', ['charts/sub/values.yaml'])), ['staging:app']);
    assert.deepEqual(matched(push('refs/heads/main', ['deploy/.hidden/x.yaml'])), ['staging:app', 'qa:app']);
  });

  test('a truncated change list counts as touching every path', () => {
    assert.deepEqual(matched(push('refs/heads/main', ['README.md'], false)), [
      'staging:app',
      'qa:app+config',
    ]);
  });

  test("a change under the environment's config path adds a config job", () => {
    assert.deepEqual(matched(push('refs/heads/main', ['config/qa/ingress.yaml'])), [
      'staging:app',
      'qa:config',
    ]);
    assert.deepEqual(matched(push('refs/heads/main', ['config/qa-other/x.yaml'])), ['staging:app']);
    assert.deepEqual(matched(push('refs/heads/main', ['deploy/a.yaml', 'config/qa/b.yaml'])), [
      'staging:app',
      'qa:app+config',
    ]);
  });

  test('each part follows its own autoSync switch', () => {
    assert.deepEqual(matched(push('refs/heads/config-only', ['config/only/ingress.yaml', 'deploy/a.yaml'])), [
      'config-only:config',
    ]);
    assert.deepEqual(
      matchTriggers(config.apps, push('refs/heads/config-only', ['deploy/a.yaml'])).skipped.map(
        (s) => s.reason,
      ),
      ['autoSync is off: the new commit is only reported as OutOfSync'],
    );
  });

  test('suspended environments and environments without autoSync are skipped with a reason', () => {
    const result = matchTriggers(config.apps, push('refs/heads/main', ['README.md']));
    assert.deepEqual(result.skipped, [
      { app: 'shop', environment: 'qa', reason: 'no changed path matches trigger.paths' },
      { app: 'shop', environment: 'paused', reason: 'suspended' },
    ]);
    const tag = matchTriggers(config.apps, push('refs/tags/v2.0.0', [], false));
    assert.deepEqual(
      tag.skipped.map((s) => [s.environment, s.reason]),
      [['manual', 'autoSync is off: the new commit is only reported as OutOfSync']],
    );
  });

  test('deletions and other refs match nothing', () => {
    assert.deepEqual(matched(push('refs/heads/main', [], true, { deleted: true, commit: undefined })), []);
    assert.deepEqual(matched(push('refs/notes/commits', ['deploy/a.yaml'])), []);
  });
});
