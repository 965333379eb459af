import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../functions/core/config.ts';
import { checkIdOf, parseEnvironmentCheck } from '../../functions/core/model/check.ts';
import { planChecks } from '../../functions/core/reconcile/schedule.ts';
import { followRef, trackedHead } from '../../functions/core/source/tracked-ref.ts';

const refs = new Map([
  ['refs/heads/main', 'a'.repeat(40)],
  ['refs/heads/release/1.4', 'b'.repeat(40)],
  ['refs/tags/v1.9.0', 'c'.repeat(40)],
  ['refs/tags/v1.10.0', 'd'.repeat(40)],
  ['refs/tags/v2.0.0-rc.1', 'e'.repeat(40)],
  ['refs/tags/nightly', 'f'.repeat(40)],
]);

describe('the ref an environment follows', () => {
  test('tag patterns follow the newest matching tag by semantic version', () => {
    assert.deepEqual(trackedHead({ branches: [], tags: ['v1.*'], paths: [] }, refs), {
      ref: 'refs/tags/v1.10.0',
      commit: 'd'.repeat(40),
    });
    assert.equal(trackedHead({ branches: [], tags: ['v*'], paths: [] }, refs)?.ref, 'refs/tags/v2.0.0-rc.1');
  });

  test('branch patterns follow the first literal branch that exists; globs follow nothing', () => {
    assert.equal(
      trackedHead({ branches: ['develop', 'main'], tags: [], paths: [] }, refs)?.ref,
      'refs/heads/main',
    );
    assert.equal(trackedHead({ branches: ['release/*'], tags: [], paths: [] }, refs), undefined);
  });

  test('a job for a ref follows that ref: a branch to its head, a tag to the newest matching tag', () => {
    const branches = { branches: ['release/*'], tags: [], paths: [] };
    assert.deepEqual(followRef(branches, 'refs/heads/release/1.4', refs), {
      ref: 'refs/heads/release/1.4',
      commit: 'b'.repeat(40),
    });
    assert.equal(followRef(branches, 'refs/heads/release/1.3', refs), undefined, 'a deleted branch');
    const tags = { branches: [], tags: ['v1.*'], paths: [] };
    assert.equal(followRef(tags, 'refs/tags/v1.9.0', refs)?.ref, 'refs/tags/v1.10.0');
    assert.deepEqual(
      followRef({ branches: [], tags: ['nightly'], paths: [] }, 'refs/tags/nightly', refs),
      { ref: 'refs/tags/nightly', commit: 'f'.repeat(40) },
      'a tag that is no version is its own target',
    );
  });
});

describe('a scheduler tick', () => {
  const env = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    cluster: 'c',
    namespace: name,
    trigger: { branches: ['main'] },
    ...extra,
  });
  const config = parseConfig({
    repositories: [
      { name: 'r', url: 'https://git.example.com/o/r.git', provider: 'github', webhookSecret: 's' },
    ],
    clusters: [{ name: 'c', type: 'kubeconfig' }],
    apps: [
      {
        name: 'a',
        repository: 'r',
        path: 'deploy',
        environments: [env('one'), env('two', { suspend: true }), env('three', { config: { path: 'env' } })],
      },
    ],
    settings: { reconcileJitterSeconds: 30 },
  });

  test('plans one check per part of every environment that is not suspended, jittered within the setting', () => {
    const checks = planChecks(config, 'tick-1', new Date('2026-01-01T00:00:00Z'), () => 0.999);
    assert.deepEqual(
      checks.map(({ check }) => `${check.environment}/${check.part}`),
      ['one/app', 'three/app', 'three/config'],
    );
    assert.ok(checks.every(({ delaySeconds }) => delaySeconds === 30));
    assert.ok(planChecks(config, 't', new Date(), () => 0).every(({ delaySeconds }) => delaySeconds === 0));
  });

  test('a check survives the queue and anything else is refused', () => {
    const [{ check } = { check: undefined }] = planChecks(config, 'tick-1', new Date());
    assert.deepEqual(parseEnvironmentCheck(JSON.stringify(check)), check);
    assert.equal(parseEnvironmentCheck(JSON.stringify({ ...check, part: 'other' })), undefined);
    assert.equal(parseEnvironmentCheck('{"app":"a"}'), undefined);
    assert.equal(parseEnvironmentCheck('not json'), undefined);
  });

  test('a check has one id per tick and part', () => {
    const [one, , configPart] = planChecks(config, 'tick-1', new Date()).map(({ check }) => check);
    assert.ok(one !== undefined && configPart !== undefined);
    assert.equal(checkIdOf(one), 'tick-1.a.one.app');
    assert.equal(checkIdOf(configPart), 'tick-1.a.three.config');
    assert.equal(checkIdOf({ ...one, scheduledAt: 'later' }), checkIdOf(one), 'a redelivered check');
  });
});
