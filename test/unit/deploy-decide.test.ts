// What a job does once the worker holds the part's lock: follow the ref, honour a pin, skip what is rejected
// or current.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type EnvironmentConfig, parseConfig } from '../../functions/core/config.ts';
import { decide } from '../../functions/core/deploy/decide.ts';
import { createJob, type JobTrigger } from '../../functions/core/model/job.ts';
import type { EnvironmentState, Pin, SyncState } from '../../functions/core/model/records.ts';

const sha = (c: string) => c.repeat(40);
const MAIN = 'refs/heads/main';

const config = parseConfig({
  repositories: [
    { name: 'r', url: 'https://git.example.com/o/r.git', provider: 'github', webhookSecret: 's' },
  ],
  clusters: [{ name: 'c', type: 'kubeconfig' }],
  apps: [
    {
      name: 'shop',
      repository: 'r',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'c', namespace: 'staging', trigger: { branches: ['main'] } },
        { name: 'prod', cluster: 'c', namespace: 'prod', trigger: { tags: ['v*'] } },
      ],
    },
  ],
});
const environment = (name: string): EnvironmentConfig => {
  const found = config.apps[0]?.environments.find((e) => e.name === name);
  assert.ok(found !== undefined);
  return found;
};
const staging = environment('staging');
const prod = environment('prod');

const key = { app: 'shop', environment: 'staging', part: 'app' } as const;
const push: JobTrigger = { kind: 'push', deliveryId: 'd1', provider: 'github' };
const newCommit: JobTrigger = { kind: 'reconcile', checkId: 't1.shop.staging.app', reason: 'new-commit' };
const drift: JobTrigger = { kind: 'reconcile', checkId: 't1.shop.staging.app', reason: 'drift' };
const manual = (pin: boolean): JobTrigger => ({
  kind: 'manual',
  requestedBy: 'ops@example.com',
  pin,
  overrideDeletionBudget: false,
});
const job = (trigger: JobTrigger, commit: string, ref = MAIN) =>
  createJob(key, { ref, commit }, trigger, new Date('2026-01-01T12:00:00Z'));

const refs = new Map([
  [MAIN, sha('b')],
  ['refs/tags/v1.2.0', sha('1')],
  ['refs/tags/v1.10.0', sha('3')],
  ['refs/tags/v1.9.0', sha('2')],
  ['refs/tags/not-a-version', sha('4')],
]);

const sync = (status: SyncState['status'], commit: string, failure?: SyncState['failure']): SyncState => ({
  status,
  message: '',
  at: '2026-01-01T00:00:00Z',
  commit,
  ...(failure === undefined ? {} : { failure }),
});
const state = (applied: string | undefined, partSync: SyncState, pin?: Pin): EnvironmentState => ({
  ...(applied === undefined
    ? {}
    : { lastApplied: { commit: applied, ref: MAIN, deploymentId: 'd0', appliedAt: '2026-01-01T00:00:00Z' } }),
  sync: partSync,
  inventory: [],
  recentJobs: [],
  ...(pin === undefined ? {} : { pin }),
});
const pin: Pin = { commit: sha('a'), ref: MAIN, by: 'ops@example.com', at: '2026-01-01T11:00:00Z' };
const pinned = state(sha('a'), sync('Synced', sha('a')), pin);

describe('following the ref', () => {
  test("a branch job applies the branch's head, whatever commit the job named", () => {
    for (const named of [sha('a'), sha('b'), sha('c')]) {
      assert.deepEqual(decide(job(push, named), staging, state(sha('a'), sync('Synced', sha('a'))), refs), {
        kind: 'apply',
        target: { ref: MAIN, commit: sha('b') },
      });
    }
    assert.deepEqual(decide(job(newCommit, sha('a')), staging, undefined, refs), {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('b') },
    });
  });

  test('a head that moved backwards (a force-push) is followed', () => {
    const back = new Map([[MAIN, sha('0')]]);
    assert.deepEqual(decide(job(push, sha('b')), staging, state(sha('b'), sync('Synced', sha('b'))), back), {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('0') },
    });
  });

  test('a tag job applies the newest matching tag by semantic version', () => {
    assert.deepEqual(decide(job(push, sha('1'), 'refs/tags/v1.2.0'), prod, undefined, refs), {
      kind: 'apply',
      target: { ref: 'refs/tags/v1.10.0', commit: sha('3') },
    });
  });

  test('a deleted ref is skipped, with no target', () => {
    const decision = decide(job(push, sha('a'), 'refs/heads/gone'), staging, undefined, refs);
    assert.equal(decision.kind, 'skip');
    assert.equal(decision.target, undefined);
    assert.match(decision.kind === 'skip' ? decision.message : '', /refs\/heads\/gone no longer exists/);
    assert.equal(decide(job(manual(false), sha('a'), 'refs/heads/gone'), staging, pinned, refs).kind, 'skip');
  });
});

describe('what the part runs already', () => {
  test('an applied, Synced head is current; the message names the commit the job named', () => {
    const decision = decide(job(push, sha('a')), staging, state(sha('b'), sync('Synced', sha('b'))), refs);
    assert.equal(decision.kind, 'current');
    assert.deepEqual(decision.target, { ref: MAIN, commit: sha('b') });
    assert.match(
      decision.kind === 'current' ? decision.message : '',
      /already at bbbbbbbbbbbb.*the job named aaaaaaaaaaaa/,
    );
    assert.equal(
      decide(job(push, sha('b')), staging, state(sha('b'), sync('OutOfSync', sha('c'))), refs).kind,
      'current',
    );
  });

  test('a head whose last deployment failed transiently is applied again', () => {
    const failed = state(sha('b'), sync('Failed', sha('b'), 'transient'));
    assert.deepEqual(decide(job(push, sha('b')), staging, failed, refs), {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('b') },
    });
  });

  test('a rejected head is skipped until Git or a person says otherwise', () => {
    const rejected = state(sha('a'), sync('Failed', sha('b'), 'rejected'));
    const decision = decide(job(push, sha('b')), staging, rejected, refs);
    assert.equal(decision.kind, 'skip');
    assert.deepEqual(decision.target, { ref: MAIN, commit: sha('b') });
    assert.match(decision.kind === 'skip' ? decision.message : '', /was rejected/);
    assert.equal(decide(job(newCommit, sha('b')), staging, rejected, refs).kind, 'skip');
    assert.equal(
      decide(job(push, sha('c')), staging, rejected, new Map([[MAIN, sha('c')]])).kind,
      'apply',
      'a new commit',
    );
    assert.equal(
      decide(job(manual(false), sha('b')), staging, rejected, refs).kind,
      'apply',
      'a manual deploy',
    );
  });

  test('a heal applies the head even when the part runs it', () => {
    assert.deepEqual(
      decide(job(drift, sha('b')), staging, state(sha('b'), sync('OutOfSync', sha('b'))), refs),
      {
        kind: 'apply',
        target: { ref: MAIN, commit: sha('b') },
      },
    );
  });
});

describe('pins', () => {
  test('a manual pinning job applies its own commit and sets the pin', () => {
    const decision = decide(
      job(manual(true), sha('c')),
      staging,
      state(sha('b'), sync('Synced', sha('b'))),
      refs,
    );
    assert.deepEqual(decision, {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('c') },
      pin: { ref: MAIN, commit: sha('c'), by: 'ops@example.com', at: '2026-01-01T12:00:00.000Z' },
    });
  });

  test('a pinned part skips pushes and new-commit checks, naming the pin', () => {
    for (const trigger of [push, newCommit]) {
      const decision = decide(job(trigger, sha('b')), staging, pinned, refs);
      assert.equal(decision.kind, 'skip');
      assert.deepEqual(decision.target, { ref: MAIN, commit: sha('a') });
      assert.match(
        decision.kind === 'skip' ? decision.message : '',
        /pinned at aaaaaaaaaaaa by ops@example\.com/,
      );
    }
  });

  test('a pinned part heals drift back to the pin, leaving the pin as it is', () => {
    assert.deepEqual(decide(job(drift, sha('b')), staging, pinned, refs), {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('a') },
    });
  });

  test('a manual job without a pin releases the pin and applies the head', () => {
    assert.deepEqual(decide(job(manual(false), sha('a')), staging, pinned, refs), {
      kind: 'apply',
      target: { ref: MAIN, commit: sha('b') },
      pin: null,
    });
  });
});

describe('followers', () => {
  const follower: EnvironmentConfig = {
    ...prod,
    trigger: { branches: [], tags: [], paths: [] },
    follow: { environment: 'staging', healthyFor: '10m' },
  };
  const promoted = { target: { ref: MAIN, commit: sha('c') } };
  const notYet = { waiting: 'waiting for staging: staging has run cccccccccccc Synced for 2m of 10m' };

  test('a follower applies what the environment it follows may promote, whatever the job named', () => {
    for (const trigger of [push, newCommit]) {
      assert.deepEqual(
        decide(job(trigger, sha('b')), follower, state(sha('a'), sync('Synced', sha('a'))), refs, promoted),
        {
          kind: 'apply',
          target: { ref: MAIN, commit: sha('c') },
        },
      );
    }
  });

  test('nothing to promote yet: the job waits, and the part is not behind', () => {
    assert.deepEqual(
      decide(job(newCommit, sha('c')), follower, state(sha('a'), sync('Synced', sha('a'))), refs, notYet),
      {
        kind: 'wait',
        message: notYet.waiting,
        behind: false,
      },
    );
  });

  test('a follower running the promoted commit is current; a rejected one is not tried again', () => {
    assert.equal(
      decide(job(push, sha('c')), follower, state(sha('c'), sync('Synced', sha('c'))), refs, promoted).kind,
      'current',
    );
    assert.equal(
      decide(
        job(push, sha('c')),
        follower,
        state(sha('a'), sync('Failed', sha('c'), 'rejected')),
        refs,
        promoted,
      ).kind,
      'skip',
    );
  });

  test('a heal while nothing can be promoted re-applies what the follower runs', () => {
    assert.deepEqual(
      decide(job(drift, sha('a')), follower, state(sha('a'), sync('OutOfSync', sha('a'))), refs, notYet),
      {
        kind: 'apply',
        target: { ref: MAIN, commit: sha('a') },
      },
    );
  });

  test('a pin or a manual deploy wins over following', () => {
    assert.equal(decide(job(push, sha('c')), follower, pinned, refs, promoted).kind, 'skip');
    assert.deepEqual(
      decide(job(manual(true), sha('d')), follower, state(sha('a'), sync('Synced', sha('a'))), refs, notYet),
      {
        kind: 'apply',
        target: { ref: MAIN, commit: sha('d') },
        pin: { ref: MAIN, commit: sha('d'), by: 'ops@example.com', at: '2026-01-01T12:00:00.000Z' },
      },
    );
  });
});
