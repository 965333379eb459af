import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DeployJob, jobGroup, parseDeployJob, supersededInBatch } from '../../functions/core/jobs.ts';

const job = (environment: string, commit: string, kind: 'push' | 'rollback' = 'push'): DeployJob => ({
  app: 'shop',
  environment,
  part: 'app',
  ref: 'refs/heads/main',
  commit: commit.repeat(40),
  trigger: kind === 'push' ? { kind, deliveryId: 'd', provider: 'github' } : { kind, requestedBy: 'me' },
  enqueuedAt: '2026-01-01T00:00:00Z',
});

describe('deploy jobs', () => {
  test('one FIFO group per environment part', () => {
    assert.equal(jobGroup(job('prod', 'a')), 'shop/prod');
    assert.equal(jobGroup({ ...job('prod', 'a'), part: 'config' }), 'shop/prod/config');
  });

  test('in a batch, a later job of the same group supersedes an earlier one; rollbacks never are', () => {
    const batch = [
      job('prod', 'a'),
      job('staging', 'b'),
      job('prod', 'c'),
      job('prod', 'd', 'rollback'),
      undefined,
    ];
    assert.deepEqual(supersededInBatch(batch), [true, false, false, false, false]);
  });

  test('a queue message parses into a job only when it is one', () => {
    assert.deepEqual(parseDeployJob(JSON.stringify(job('prod', 'a'))), job('prod', 'a'));
    assert.equal(parseDeployJob(JSON.stringify({ ...job('prod', 'a'), commit: 'main' })), undefined);
    assert.equal(parseDeployJob('{'), undefined);
  });
});
