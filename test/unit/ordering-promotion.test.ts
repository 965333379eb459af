// What a follower may deploy: the followed environment's commit once it has run Synced for healthyFor.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { durationSeconds } from '../../functions/core/config.ts';
import type { EnvironmentState, SyncState } from '../../functions/core/model/records.ts';
import { promotion } from '../../functions/core/source/tracked-ref.ts';

const sha = (c: string) => c.repeat(40);
const appliedAt = Date.parse('2026-01-01T12:00:00Z');
const follow = { environment: 'staging', healthyFor: '10m' };
const leader = (sync: Partial<SyncState> = {}, commit = sha('a')): EnvironmentState => ({
  lastApplied: {
    commit,
    ref: 'refs/heads/main',
    deploymentId: 'd1',
    appliedAt: new Date(appliedAt).toISOString(),
  },
  sync: { status: 'Synced', message: '', at: '', commit, ...sync },
  inventory: [],
  recentJobs: [],
});
const minutes = (n: number) => appliedAt + n * 60_000;

describe('promotion', () => {
  test('the followed commit is promoted once it has run Synced for healthyFor, not before', () => {
    assert.deepEqual(promotion(follow, leader(), minutes(3.5)), {
      kind: 'waiting',
      message: `waiting for staging: staging has run ${sha('a').slice(0, 12)} Synced for 3m30s of 10m`,
    });
    const ready = promotion(follow, leader(), minutes(10));
    assert.equal(ready.kind, 'ready');
    assert.deepEqual(ready.kind === 'ready' && ready.target, { ref: 'refs/heads/main', commit: sha('a') });
  });

  test('nothing is promoted from an environment that applied nothing, failed, or drifted', () => {
    assert.equal(promotion(follow, undefined, minutes(60)).kind, 'waiting');
    assert.equal(
      promotion(follow, leader({ status: 'Failed', commit: sha('b') }), minutes(60)).message,
      `waiting for staging: it is Failed at ${sha('b').slice(0, 12)}, not Synced`,
    );
    assert.equal(promotion(follow, leader({ status: 'OutOfSync' }), minutes(60)).kind, 'waiting');
  });

  test('healthyFor 0s promotes at once', () => {
    assert.equal(promotion({ ...follow, healthyFor: '0s' }, leader(), appliedAt).kind, 'ready');
  });

  test('durations are hours, minutes and seconds', () => {
    assert.deepEqual(
      ['90s', '10m', '1h30m', '2h', '1h0m5s'].map(durationSeconds),
      [90, 600, 5400, 7200, 3605],
    );
  });
});
