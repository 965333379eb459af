// The local mode's deploy queue and worker loop on the real `node:sqlite`: FIFO per part, deduplication by job id
// over a window, every job run (the worker follows the ref, the queue supersedes nothing), retries with backoff
// and the dead letters, restarts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { type JobOutcome, JobWorker } from '../../functions/adapters/local/job-worker.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { type ClaimedJob, SqliteJobQueue } from '../../functions/adapters/local/sqlite-job-queue.ts';
import { createJob, type DeployJob, type JobTrigger } from '../../functions/core/model/job.ts';

const run = promisify(execFile);

let stateDir: string;
let db: DatabaseSync;
let now: number;
let queue: SqliteJobQueue;
const logLines: string[] = [];
const logger = createLogger({ write: (line) => logLines.push(line) });

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ferry-local-queue-'));
  db = openDatabase(stateDir);
  now = Date.parse('2026-11-02T10:00:00Z');
  queue = new SqliteJobQueue(db, { clock: () => now });
  logLines.length = 0;
});

afterEach(async () => {
  db.close();
  await rm(stateDir, { recursive: true, force: true });
});

let counter = 0;
/** A job of the app part of `environment`: by default a push of its own delivery and commit. */
function queued(environment: string, options: { commit?: string; trigger?: JobTrigger } = {}): DeployJob {
  counter += 1;
  return createJob(
    { app: 'shop', environment, part: 'app' },
    { ref: 'refs/heads/main', commit: options.commit ?? counter.toString(16).padStart(40, '0') },
    options.trigger ?? { kind: 'push', deliveryId: `d${counter}`, provider: 'github' },
    new Date(now),
  );
}

const manual: JobTrigger = { kind: 'manual', requestedBy: 'ops', pin: true, overrideDeletionBudget: false };
const delivery = (deliveryId: string): JobTrigger => ({ kind: 'push', deliveryId, provider: 'github' });

const commitOf = (claimed: ClaimedJob | undefined) => claimed?.job.commit;

describe('queue', () => {
  test('FIFO per group: a group runs one job at a time, in order; other groups go on', () => {
    const a1 = queued('staging');
    const b1 = queued('production');
    const a2 = queued('staging', { trigger: manual });
    queue.add([a1, b1, a2]);
    const first = queue.claim();
    assert.equal(commitOf(first), a1.commit);
    assert.equal(first?.group, 'shop/staging/app');
    assert.deepEqual(first?.job, a1, 'the job as it was enqueued');
    assert.equal(first?.attempt, 1);
    const second = queue.claim();
    assert.equal(commitOf(second), b1.commit, 'staging is held while its job runs');
    assert.equal(queue.claim(), undefined);
    queue.complete(first?.id ?? 0);
    assert.equal(commitOf(queue.claim()), a2.commit);
  });

  test('a claim can be narrowed to one group', () => {
    const a = queued('staging');
    const b = queued('production');
    queue.add([a, b]);
    assert.equal(commitOf(queue.claim({ group: 'shop/production/app' })), b.commit);
    assert.equal(queue.claim({ group: 'shop/production/app' }), undefined);
  });

  test('equal job ids within five minutes are enqueued once, even after the first ran', () => {
    // A redelivered webhook makes the same job again: same delivery and part, whatever else it says.
    const redelivery = () => queued('staging', { trigger: delivery('delivery-1') });
    const [first] = queue.add([redelivery()]);
    assert.notEqual(first, undefined);
    assert.deepEqual(queue.add([redelivery()]), [undefined]);
    queue.complete(queue.claim()?.id ?? 0);
    now += 4 * 60 * 1000;
    assert.deepEqual(queue.add([redelivery()]), [undefined]);
    assert.equal(queue.pending().length, 0);
    now += 60 * 1000;
    const [again] = queue.add([redelivery()]);
    assert.notEqual(again, undefined, 'accepted once the window has passed');
    assert.equal(queue.pending().length, 1);
  });

  test('a job is deduplicated within one batch too; the same delivery for another part is another job', () => {
    const job = queued('staging', { trigger: delivery('delivery-2') });
    const configJob = createJob({ ...job, part: 'config' }, job, job.trigger, new Date(now));
    const ids = queue.add([job, job, configJob]);
    assert.equal(ids[1], undefined);
    assert.deepEqual(
      queue.pending().map((p) => p.group),
      ['shop/staging/app', 'shop/staging/config'],
    );
  });

  test('nothing is superseded in the queue: every job of a part runs, in order, even for one commit', () => {
    const commit = 'e'.repeat(40);
    const jobs = [queued('staging', { commit }), queued('staging', { commit }), queued('staging')];
    queue.add(jobs);
    const ran: DeployJob[] = [];
    for (let claimed = queue.claim(); claimed !== undefined; claimed = queue.claim()) {
      ran.push(claimed.job);
      queue.complete(claimed.id);
    }
    assert.deepEqual(ran, jobs);
  });

  test('a message that is not a deploy job (a rollback of an older Ferry) is dead-lettered; its part goes on', () => {
    const old = { ...queued('staging'), trigger: { kind: 'rollback', requestedBy: 'ops' } };
    const next = queued('staging');
    queue.add([old as unknown as DeployJob, next]);
    // The claim that meets the message moves it aside; the part's next job is claimable at once after.
    assert.equal(commitOf(queue.claim() ?? queue.claim()), next.commit);
    assert.deepEqual(
      queue.deadLetters().map((d) => [d.group, d.job, d.lastError]),
      [['shop/staging/app', undefined, 'the message is not a deploy job']],
    );
  });

  test('jobs survive reopening the database; a job whose process died runs again', async () => {
    const a = queued('staging');
    const b = queued('staging');
    queue.add([a, b]);
    const database = new URL('../../functions/adapters/local/database.ts', import.meta.url).href;
    const sqliteQueue = new URL('../../functions/adapters/local/sqlite-job-queue.ts', import.meta.url).href;
    // Another process claims the first job and dies before finishing it.
    const script = `
      import { openDatabase } from ${JSON.stringify(database)};
      import { SqliteJobQueue } from ${JSON.stringify(sqliteQueue)};
      const db = openDatabase(${JSON.stringify(stateDir)});
      const claimed = new SqliteJobQueue(db).claim();
      db.close();
      process.stdout.write(claimed.job.commit);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(stdout, a.commit);
    db.close();
    db = openDatabase(stateDir);
    const reopened = new SqliteJobQueue(db, { clock: () => now });
    assert.deepEqual(
      reopened.pending().map((p) => [p.job.commit, p.running, p.attempts]),
      [
        [a.commit, true, 1],
        [b.commit, false, 0],
      ],
    );
    const again = reopened.claim();
    assert.equal(commitOf(again), a.commit);
    assert.equal(again?.attempt, 2, 'the interrupted run counted');
  });

  test('a running job of a live process is not taken by another', () => {
    queue.add([queued('staging')]);
    assert.notEqual(queue.claim(), undefined);
    const second = new SqliteJobQueue(db, { clock: () => now });
    assert.equal(second.claim(), undefined);
  });
});

/** Waits until `condition` holds, polling. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('worker', () => {
  test('a job that keeps failing is retried with backoff, then dead-lettered with its last error', async () => {
    const realQueue = new SqliteJobQueue(db);
    const failing = queued('staging');
    const next = queued('staging', { trigger: manual });
    const runs: number[] = [];
    const delays: number[] = [];
    const outcomes: JobOutcome<string>[] = [];
    const worker = new JobWorker<string>(
      realQueue,
      async (claimed) => {
        runs.push(Date.now());
        if (claimed.job.commit === failing.commit)
          throw new Error(`cluster unreachable (run ${runs.length})`);
        return 'ok';
      },
      {
        logger,
        maxAttempts: 3,
        retryDelayMs: (attempt) => {
          delays.push(attempt);
          return 40 * attempt;
        },
        pollIntervalMs: 1000,
        onSettled: (_, outcome) => outcomes.push(outcome),
      },
    );
    realQueue.add([failing, next]);
    worker.start();
    try {
      await until(() => outcomes.length === 4, 'three failed runs and the next job');
    } finally {
      await worker.stop();
    }
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['retry', 'retry', 'dead', 'done'],
    );
    assert.deepEqual(delays, [1, 2], 'backoff after the first and second failure');
    assert.ok((runs[1] ?? 0) - (runs[0] ?? 0) >= 40, 'the first retry waited');
    assert.ok((runs[2] ?? 0) - (runs[1] ?? 0) >= 80, 'the second retry waited longer');
    const dead = realQueue.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.job?.commit, failing.commit);
    assert.equal(dead[0]?.attempts, 3);
    assert.equal(dead[0]?.lastError, 'cluster unreachable (run 3)');
    assert.deepEqual(realQueue.pending(), [], 'the group went on with the next job');
    assert.ok(logLines.some((line) => line.includes('moved to the dead letters')));
  });

  test('a job that could not start (its part is busy) is postponed without counting the attempt', async () => {
    const realQueue = new SqliteJobQueue(db);
    let calls = 0;
    const outcomes: string[] = [];
    const worker = new JobWorker(
      realQueue,
      async () => {
        calls += 1;
        if (calls <= 2) throw new Error('busy');
        return calls;
      },
      {
        logger,
        maxAttempts: 1,
        postpones: (error) => error instanceof Error && error.message === 'busy',
        postponeDelayMs: 20,
        onSettled: (_, outcome) => outcomes.push(outcome.kind),
      },
    );
    realQueue.add([queued('staging')]);
    worker.start();
    try {
      await until(() => outcomes.includes('done') || outcomes.includes('dead'), 'the job settled');
    } finally {
      await worker.stop();
    }
    assert.deepEqual(outcomes, ['retry', 'retry', 'done']);
    assert.deepEqual(realQueue.deadLetters(), []);
  });

  test('one job at a time per group, groups in parallel up to the bound, each group in order', async () => {
    const realQueue = new SqliteJobQueue(db);
    const order = new Map<string, string[]>();
    const running = new Map<string, number>();
    let active = 0;
    let maxActive = 0;
    let maxPerGroup = 0;
    const worker = new JobWorker(
      realQueue,
      async (claimed) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        running.set(claimed.group, (running.get(claimed.group) ?? 0) + 1);
        maxPerGroup = Math.max(maxPerGroup, running.get(claimed.group) ?? 0);
        await sleep(15);
        order.set(claimed.group, [...(order.get(claimed.group) ?? []), claimed.job.commit]);
        running.set(claimed.group, (running.get(claimed.group) ?? 1) - 1);
        active -= 1;
      },
      { logger, concurrency: 2 },
    );
    const jobs = ['qa', 'staging', 'production', 'qa', 'staging', 'production', 'qa'].map((environment) =>
      queued(environment, { trigger: manual }),
    );
    realQueue.add(jobs);
    worker.start();
    try {
      await until(() => realQueue.pending().length === 0, 'the queue is empty');
    } finally {
      await worker.stop();
    }
    assert.equal(maxActive, 2);
    assert.equal(maxPerGroup, 1);
    for (const environment of ['qa', 'staging', 'production']) {
      assert.deepEqual(
        order.get(`shop/${environment}/app`),
        jobs.filter((j) => j.environment === environment).map((j) => j.commit),
      );
    }
  });

  test('stop waits for the running job and leaves the queued ones queued', async () => {
    const realQueue = new SqliteJobQueue(db);
    let finished = false;
    const worker = new JobWorker(
      realQueue,
      async () => {
        await sleep(100);
        finished = true;
      },
      { logger },
    );
    realQueue.add([queued('staging'), queued('staging')]);
    worker.start();
    await until(() => worker.running === 1, 'the first job runs');
    await worker.stop();
    assert.equal(finished, true);
    assert.deepEqual(
      realQueue.pending().map((p) => p.running),
      [false],
    );
  });
});

describe('redrive', () => {
  test('dead letters go back behind their group, runnable now, attempts afresh, even within the deduplication window', () => {
    const failing = queued('staging');
    const behind = queued('staging');
    const [id] = queue.add([failing]);
    queue.add([behind]);
    assert.equal(queue.claim()?.id, id);
    queue.deadLetter(id ?? 0, 'cluster staging unreachable');
    assert.deepEqual(
      queue.deadLetters().map((d) => [d.id, d.lastError]),
      [[id, 'cluster staging unreachable']],
    );
    const moved = queue.redrive([id ?? 0, 999]);
    assert.deepEqual([...moved.keys()], [id], 'an unknown id is left out');
    assert.deepEqual(queue.deadLetters(), []);
    assert.deepEqual(
      queue.pending().map((p) => [p.job.id, p.attempts]),
      [
        [behind.id, 0],
        [failing.id, 0],
      ],
      'behind the jobs of its group, its attempts counted afresh',
    );
    assert.deepEqual(queue.add([failing]), [undefined], 'the first sending still deduplicates the same job');
  });
});
