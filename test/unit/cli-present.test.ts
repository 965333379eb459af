// How the CLI shows the read model: aligned tables whose widths ignore colour codes, every message whole,
// durations and times for people, the queue of either install; colour only on a terminal and never with
// NO_COLOR.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { timeoutMs } from '../../bin/manual-job.ts';
import { duration, formatStatus, queueLines, table, when } from '../../bin/present.ts';
import { partArgument } from '../../bin/target.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import { partStatus, summariseDeployment } from '../../functions/core/model/status.ts';

const run = promisify(execFile);
const key = { app: 'shop', environment: 'staging', part: 'app' } as const;
const failed: DeploymentRecord = {
  id: 'mj4b2x1k-9f8e7d6c5b',
  jobId: 'j',
  key,
  commit: 'c'.repeat(40),
  ref: 'refs/heads/main',
  trigger: { kind: 'manual', requestedBy: 'ann', pin: true, overrideDeletionBudget: false },
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:03:12.400Z',
  result: 'failed',
  failure: 'rejected',
  message:
    'not healthy after 20s:\nDeployment shop/web: 0 of 2 replicas available\nDeployment shop/api: ImagePullBackOff',
  objects: [
    { object: 'Deployment shop/web', action: 'failed' },
    { object: 'Deployment shop/api', action: 'failed' },
    { object: 'Service shop/web', action: 'unchanged' },
  ],
};

describe('presentation', () => {
  test('durations and times', () => {
    assert.equal(duration(850), '850 ms');
    assert.equal(duration(4200), '4.2 s');
    assert.equal(duration(192_400), '3 min 12 s');
    assert.equal(when('2026-12-01T10:00:00.123Z'), '2026-12-01T10:00:00Z');
    assert.equal(when(''), '-');
  });

  test('a deployment summarised: short id, duration and objects by action', () => {
    const summary = summariseDeployment(failed);
    assert.equal(summary.shortId, '9f8e7d6c');
    assert.equal(summary.durationMs, 192_400);
    assert.deepEqual(summary.actions, { failed: 2, unchanged: 1 });
    assert.equal(summary.objects, 3);
  });

  test("a table aligns its columns and puts each row's details under it", () => {
    assert.deepEqual(
      table(
        [
          ['A', 'BB'],
          ['long cell', 'x'],
          ['y', 'z'],
        ],
        [['  under the first'], []],
      ),
      ['A          BB', 'long cell  x', '  under the first', 'y          z'],
    );
  });

  test("status shows the last result whole, not only its first line, and a pinned part's pin", () => {
    const part = partStatus(
      key,
      {
        state: {
          sync: { status: 'Failed', message: failed.message, at: failed.finishedAt, commit: failed.commit },
          inventory: [],
          recentJobs: [],
          pin: { commit: failed.commit, ref: 'refs/heads/main', by: 'ann', at: failed.startedAt },
        },
        lastCheck: undefined,
        lock: undefined,
      },
      [failed],
      { configured: true, suspended: false },
    );
    const text = formatStatus({
      generatedAt: '',
      environments: [part],
      queue: { queued: 0, running: 0, listsJobs: true, jobs: [], deadLetters: [] },
    });
    assert.equal(
      text,
      [
        'PART              SYNC    APPLIED  HEAD  PINNED               LAST CHECK',
        'shop/staging/app  Failed  -        -     cccccccccccc by ann  -',
        '  pinned at cccccccccccc (refs/heads/main) by ann since 2026-12-01T10:00:00Z; head not checked yet',
        '  last result: failed cccccccccccc manual (ann, pin) at 2026-12-01T10:00:00Z, 3 min 12 s (9f8e7d6c)',
        '    not healthy after 20s:',
        '    Deployment shop/web: 0 of 2 replicas available',
        '    Deployment shop/api: ImagePullBackOff',
        '',
        'Queue: 0 queued, 0 running, 0 dead letters',
      ].join('\n'),
    );
  });

  test('an SQS queue is counted, not listed, and says so when it holds jobs', () => {
    assert.deepEqual(queueLines({ queued: 3, running: 1, listsJobs: false, jobs: [], deadLetters: [] }), [
      'Queue: 3 queued, 1 running, 0 dead letters',
      '  (an SQS queue tells how many jobs it holds, approximately, not which)',
    ]);
  });

  test('colour only on a terminal: never in a pipe, never with NO_COLOR, forced by FORCE_COLOR', async () => {
    const script = `import { paint } from ${JSON.stringify(new URL('../../bin/cli.ts', import.meta.url).pathname)}; process.stdout.write(paint('red', 'x'));`;
    const output = async (env: NodeJS.ProcessEnv) =>
      (await run(process.execPath, ['--input-type=module', '-e', script], { env })).stdout;
    const { NO_COLOR: _n, FORCE_COLOR: _f, ...base } = process.env;
    assert.equal(await output(base), 'x', 'a pipe is no terminal');
    assert.equal(await output({ ...base, FORCE_COLOR: '1' }), '\u001b[31mx\u001b[39m');
    assert.equal(await output({ ...base, FORCE_COLOR: '1', NO_COLOR: '1' }), 'x');
  });
});

describe('arguments', () => {
  test('a part is app/environment[/part] or two words; --part chooses the configuration part', () => {
    assert.deepEqual(partArgument('x', ['shop/staging', 'main'], undefined), { key, rest: ['main'] });
    assert.deepEqual(partArgument('x', ['shop', 'staging', 'main'], undefined), { key, rest: ['main'] });
    assert.deepEqual(partArgument('x', ['shop/staging/config'], undefined).key.part, 'config');
    assert.deepEqual(partArgument('x', ['shop/staging'], 'config').key.part, 'config');
    assert.throws(() => partArgument('x', ['shop'], undefined), /expected <app>\/<environment>/);
    assert.throws(
      () => partArgument('x', ['shop/staging/app/more'], undefined),
      /is not <app>\/<environment>/,
    );
    assert.throws(() => partArgument('x', ['shop/staging/other'], undefined), /--part must be app or config/);
  });

  test('--timeout takes durations or seconds', () => {
    assert.equal(timeoutMs('90s', 'wait'), 90_000);
    assert.equal(timeoutMs('1h30m', 'wait'), 5_400_000);
    assert.equal(timeoutMs('45', 'wait'), 45_000);
    assert.throws(() => timeoutMs('soon', 'wait'), /--timeout must be a duration such as 90s, 10m or 1h/);
  });
});
