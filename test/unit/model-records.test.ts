// What a part remembers of the jobs it recorded, so that a redelivered message writes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FailureClass } from '../../functions/core/errors.ts';
import { type DeploymentRecord, recentJobsAfter } from '../../functions/core/model/records.ts';

const record = (
  jobId: string,
  result: DeploymentRecord['result'],
  failure?: FailureClass,
): DeploymentRecord => ({
  id: `deployment-of-${jobId}`,
  jobId,
  key: { app: 'shop', environment: 'prod', part: 'app' },
  commit: 'a'.repeat(40),
  ref: 'refs/heads/main',
  trigger: { kind: 'push', deliveryId: 'd', provider: 'github' },
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:00:01Z',
  result,
  ...(failure === undefined ? {} : { failure }),
  message: '',
  objects: [],
});

describe('recentJobsAfter', () => {
  test('a finished job is remembered first, whatever its result', () => {
    let recent: readonly string[] = [];
    recent = recentJobsAfter(recent, record('j1', 'succeeded'));
    recent = recentJobsAfter(recent, record('j2', 'current'));
    recent = recentJobsAfter(recent, record('j3', 'skipped'));
    recent = recentJobsAfter(recent, record('j4', 'failed', 'rejected'));
    recent = recentJobsAfter(recent, record('j5', 'failed', 'configuration'));
    assert.deepEqual(recent, ['j5', 'j4', 'j3', 'j2', 'j1']);
  });

  test('a transient attempt is not remembered: the queue delivers the same job again on purpose', () => {
    assert.deepEqual(recentJobsAfter(['j1'], record('j2', 'failed', 'transient')), ['j1']);
    assert.deepEqual(recentJobsAfter(['j1'], record('j2', 'succeeded')), ['j2', 'j1'], 'its retry is');
  });

  test('a job remembered already is not remembered twice, nor moved', () => {
    assert.deepEqual(recentJobsAfter(['j2', 'j1'], record('j1', 'succeeded')), ['j2', 'j1']);
  });

  test('only the twenty newest are kept', () => {
    let recent: readonly string[] = [];
    for (let i = 1; i <= 25; i++) recent = recentJobsAfter(recent, record(`j${i}`, 'succeeded'));
    assert.equal(recent.length, 20);
    assert.equal(recent[0], 'j25');
    assert.equal(recent.at(-1), 'j6');
  });
});
