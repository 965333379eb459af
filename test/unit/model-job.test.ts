// The deploy job: one factory, one deduplication rule, one commit-id rule in the queue message's schema.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createJob,
  type DeployJob,
  type JobTrigger,
  parseDeployJob,
  retryDelayMs,
} from '../../functions/core/model/job.ts';
import type { PartKey } from '../../functions/core/model/part.ts';

const app: PartKey = { app: 'shop', environment: 'prod', part: 'app' };
const config: PartKey = { ...app, part: 'config' };
const main = (commit: string) => ({ ref: 'refs/heads/main', commit: commit.repeat(40) });
const push = (deliveryId: string, provider: 'github' | 'gitlab' = 'github'): JobTrigger => ({
  kind: 'push',
  deliveryId,
  provider,
});
const reconcile = (checkId: string, reason: 'new-commit' | 'drift' = 'new-commit'): JobTrigger => ({
  kind: 'reconcile',
  checkId,
  reason,
});
const manual = (pin: boolean): JobTrigger => ({
  kind: 'manual',
  requestedBy: 'ops',
  pin,
  overrideDeletionBudget: false,
});

describe('createJob', () => {
  test('a job names its part, target and trigger, with a 64-hex id and the time it was made', () => {
    const job = createJob(app, main('a'), push('d1'), new Date('2026-01-01T00:00:00Z'));
    assert.deepEqual(job, {
      id: job.id,
      app: 'shop',
      environment: 'prod',
      part: 'app',
      ref: 'refs/heads/main',
      commit: 'a'.repeat(40),
      trigger: push('d1'),
      enqueuedAt: '2026-01-01T00:00:00.000Z',
    });
    assert.match(job.id, /^[0-9a-f]{64}$/);
  });

  test('the same delivery for the same part is one job, whatever commit or time it names', () => {
    const first = createJob(app, main('a'), push('d1'), new Date('2026-01-01T00:00:00Z'));
    const redelivered = createJob(app, main('b'), push('d1'), new Date('2026-01-02T00:00:00Z'));
    assert.equal(redelivered.id, first.id);
  });

  test('another part, environment, delivery or provider is another job', () => {
    const id = createJob(app, main('a'), push('d1')).id;
    assert.notEqual(createJob(config, main('a'), push('d1')).id, id);
    assert.notEqual(createJob({ ...app, environment: 'staging' }, main('a'), push('d1')).id, id);
    assert.notEqual(createJob(app, main('a'), push('d2')).id, id);
    assert.notEqual(createJob(app, main('a'), push('d1', 'gitlab')).id, id);
  });

  test('a reconcile job is one per check, reason, commit and part: a new check can enqueue a heal again', () => {
    const id = createJob(app, main('a'), reconcile('tick-1.shop.prod.app')).id;
    assert.equal(createJob(app, main('a'), reconcile('tick-1.shop.prod.app')).id, id);
    assert.notEqual(createJob(app, main('a'), reconcile('tick-2.shop.prod.app')).id, id);
    assert.notEqual(createJob(app, main('a'), reconcile('tick-1.shop.prod.app', 'drift')).id, id);
    assert.notEqual(createJob(app, main('b'), reconcile('tick-1.shop.prod.app')).id, id);
    assert.notEqual(createJob(config, main('a'), reconcile('tick-1.shop.prod.app')).id, id);
  });

  test('a manual job is always new', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    assert.notEqual(
      createJob(app, main('a'), manual(true), at).id,
      createJob(app, main('a'), manual(true), at).id,
    );
    assert.notEqual(
      createJob(app, main('a'), manual(false), at).id,
      createJob(app, main('a'), manual(false), at).id,
    );
  });
});

describe('parseDeployJob', () => {
  const jobs: DeployJob[] = [
    createJob(app, main('a'), push('d1')),
    createJob(config, main('b'), reconcile('t.shop.prod.config', 'drift')),
    createJob(app, { ref: 'refs/tags/v1.2.0', commit: 'c'.repeat(40) }, manual(true)),
  ];
  const body = (job: DeployJob, change: Record<string, unknown>) => JSON.stringify({ ...job, ...change });

  test('a queue message parses into the job it was made from, for every trigger', () => {
    for (const job of jobs) assert.deepEqual(parseDeployJob(JSON.stringify(job)), job);
  });

  test('a commit must be a full SHA-1: a SHA-256 object id or a branch name is refused', () => {
    const [job] = jobs;
    assert.ok(job !== undefined);
    assert.equal(parseDeployJob(body(job, { commit: 'a'.repeat(64) })), undefined);
    assert.equal(parseDeployJob(body(job, { commit: 'main' })), undefined);
    assert.equal(parseDeployJob(body(job, { commit: 'A'.repeat(40) })), undefined);
  });

  test('an id that is not 64 hex digits is refused', () => {
    const [job] = jobs;
    assert.ok(job !== undefined);
    for (const id of ['delivery-1', 'a'.repeat(63), 'a'.repeat(65), 'A'.repeat(64), ''])
      assert.equal(parseDeployJob(body(job, { id })), undefined, id);
  });

  test('anything else that is not a job is refused: old triggers, unknown parts, missing fields, not JSON', () => {
    const [job] = jobs;
    assert.ok(job !== undefined);
    assert.equal(parseDeployJob(body(job, { trigger: { kind: 'rollback', requestedBy: 'ops' } })), undefined);
    assert.equal(parseDeployJob(body(job, { trigger: { kind: 'manual', requestedBy: 'ops' } })), undefined);
    assert.equal(parseDeployJob(body(job, { part: 'other' })), undefined);
    assert.equal(parseDeployJob(body(job, { app: '' })), undefined);
    assert.equal(parseDeployJob('{'), undefined);
    assert.equal(parseDeployJob('null'), undefined);
    assert.equal(parseDeployJob(body(job, { trigger: { ...push('d1'), provider: 'svn' } })), undefined);
    assert.equal(parseDeployJob(body(job, { enqueuedAt: 0 })), undefined);
  });

  test("a plan job's pull request is checked: a whole number from 0, a branch to merge into", () => {
    const trigger = {
      kind: 'plan',
      deliveryId: 'd1',
      provider: 'gitlab',
      pullRequest: { repository: 'shop', number: 7, base: 'refs/heads/main', fork: false },
    } as const;
    const job = createJob(app, { ref: 'refs/merge-requests/7/head', commit: 'd'.repeat(40) }, trigger);
    assert.deepEqual(parseDeployJob(JSON.stringify(job)), job);
    const pullRequest = (change: Record<string, unknown>) =>
      body(job, { trigger: { ...trigger, pullRequest: { ...trigger.pullRequest, ...change } } });
    for (const change of [{ number: -1 }, { number: 1.5 }, { number: '7' }, { base: 'main' }, { fork: 'no' }])
      assert.equal(parseDeployJob(pullRequest(change)), undefined, JSON.stringify(change));
  });

  test('fields that are not part of a job are left out, at every level', () => {
    const [job] = jobs;
    assert.ok(job !== undefined);
    const parsed = parseDeployJob(body(job, { extra: 1, trigger: { ...job.trigger, extra: 2 } }));
    assert.deepEqual(parsed, job);
  });
});

describe('retryDelayMs', () => {
  test('5 s after the first failed run, doubling, at most 5 minutes', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 20].map(retryDelayMs),
      [5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000],
    );
    assert.equal(retryDelayMs(0), 5000, 'an attempt below the first counts as the first');
  });
});
