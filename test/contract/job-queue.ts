// The contract of the deploy queue (port `JobQueue`), run against every adapter that implements it: FIFO per
// part, deduplicated by job id, nothing superseded, jobs delivered as they were enqueued.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createJob, type DeployJob, type JobTrigger } from '../../functions/core/model/job.ts';
import { type PartKey, type PartName, partId } from '../../functions/core/model/part.ts';
import type { JobQueue } from '../../functions/core/ports.ts';

/** A job as a consumer takes it: its message group, and a way to acknowledge it, freeing its group. */
export interface DeliveredJob {
  readonly group: string;
  readonly job: DeployJob;
  ack(): Promise<void>;
}

/** An adapter under test, fresh for each test; `close` frees what it holds. */
export interface QueueUnderTest {
  readonly queue: JobQueue;
  /** The next job a consumer can take now, or undefined when none can be taken. */
  receive(): Promise<DeliveredJob | undefined>;
  close(): Promise<void>;
}

const part = (environment: string, name: PartName = 'app'): PartKey => ({
  app: 'shop',
  environment,
  part: name,
});

let deliveries = 0;
/** A push job of its own delivery. */
function push(key: PartKey, commit = 'a'.repeat(40)): DeployJob {
  deliveries += 1;
  const trigger: JobTrigger = { kind: 'push', deliveryId: `delivery-${deliveries}`, provider: 'github' };
  return createJob(key, { ref: 'refs/heads/main', commit }, trigger);
}

/** What a test double of a queue service does not do, so that the tests of it are skipped with the reason. */
export interface QueueServiceLimits {
  /** Why jobs are deduplicated only against messages still queued, not over the window after their deletion. */
  readonly forgetsDeletedMessages?: string;
}

export function jobQueueContract(
  adapter: string,
  open: () => Promise<QueueUnderTest>,
  limits: QueueServiceLimits = {},
): void {
  describe(`job queue contract: ${adapter}`, () => {
    let underTest: QueueUnderTest | undefined;
    const queue = () => {
      assert.ok(underTest !== undefined, 'the adapter was opened');
      return underTest;
    };
    beforeEach(async () => {
      underTest = await open();
    });
    afterEach(() => underTest?.close());

    /** Takes and acknowledges every job that can be taken, as consumers that finish each job at once. */
    async function drain(): Promise<{ group: string; job: DeployJob }[]> {
      const taken: { group: string; job: DeployJob }[] = [];
      for (let next = await queue().receive(); next !== undefined; next = await queue().receive()) {
        taken.push({ group: next.group, job: next.job });
        await next.ack();
      }
      return taken;
    }
    const byGroup = (taken: readonly { group: string; job: DeployJob }[]) => {
      const groups = new Map<string, DeployJob[]>();
      for (const { group, job } of taken) groups.set(group, [...(groups.get(group) ?? []), job]);
      return groups;
    };

    test('a job comes out as it went in, in the group of its part', async () => {
      const job = push(part('staging'));
      const configJob = createJob(part('staging', 'config'), job, {
        kind: 'manual',
        requestedBy: 'ops@example.com',
        pin: true,
        overrideDeletionBudget: false,
      });
      const healJob = createJob(part('production'), job, {
        kind: 'reconcile',
        checkId: 'tick.shop',
        reason: 'drift',
      });
      await queue().queue.enqueue([job, configJob, healJob]);
      const taken = await drain();
      assert.deepEqual(
        new Map(taken.map(({ group, job }) => [job.id, { group, job }])),
        new Map([job, configJob, healJob].map((j) => [j.id, { group: partId(j), job: j }])),
      );
    });

    test('FIFO within a part, across batches; parts are apart', async () => {
      const staging = Array.from({ length: 23 }, (_, i) =>
        push(part('staging'), i.toString(16).padStart(40, '0')),
      );
      const config = Array.from({ length: 4 }, () => push(part('staging', 'config')));
      const interleaved = staging.flatMap((job, i) =>
        i < config.length ? [job, config[i] as DeployJob] : [job],
      );
      await queue().queue.enqueue(interleaved.slice(0, 12));
      await queue().queue.enqueue(interleaved.slice(12));
      const groups = byGroup(await drain());
      assert.deepEqual(groups.get('shop/staging/app'), staging);
      assert.deepEqual(groups.get('shop/staging/config'), config);
      assert.equal(groups.size, 2);
    });

    test("while a part's job is taken and not acknowledged, the part's next job waits; other parts go on", async () => {
      const [a1, a2] = [push(part('staging')), push(part('staging'))];
      const b1 = push(part('production'));
      await queue().queue.enqueue([a1, a2, b1]);
      const first = await queue().receive();
      assert.deepEqual(first?.job, a1);
      const second = await queue().receive();
      assert.deepEqual(second?.job, b1, "staging's next job waits behind the one taken");
      assert.equal(await queue().receive(), undefined);
      await first?.ack();
      assert.deepEqual((await queue().receive())?.job, a2);
    });

    test('a job enqueued twice, in one batch or two, is delivered once', async () => {
      const job = push(part('staging'));
      const next = push(part('staging'));
      await queue().queue.enqueue([job, job]);
      await queue().queue.enqueue([job, next]);
      assert.deepEqual(
        (await drain()).map(({ job }) => job),
        [job, next],
      );
    });

    const skipDeleted =
      limits.forgetsDeletedMessages === undefined ? {} : { skip: limits.forgetsDeletedMessages };
    test(
      'a job enqueued again after it was taken and acknowledged is not delivered again',
      skipDeleted,
      async () => {
        const job = push(part('staging'));
        await queue().queue.enqueue([job]);
        assert.equal((await drain()).length, 1);
        const redelivered = createJob(part('staging'), { ref: job.ref, commit: 'b'.repeat(40) }, job.trigger);
        assert.equal(redelivered.id, job.id, 'the same delivery for the same part: the same job');
        await queue().queue.enqueue([redelivered]);
        assert.deepEqual(await drain(), []);
      },
    );

    test('nothing is superseded: jobs of one part for one commit are each delivered, in order', async () => {
      const commit = 'c'.repeat(40);
      const jobs = [push(part('staging'), commit), push(part('staging'), commit), push(part('staging'))];
      await queue().queue.enqueue(jobs);
      assert.deepEqual(
        (await drain()).map(({ job }) => job),
        jobs,
      );
    });

    test('the same delivery for two parts is two jobs, both delivered', async () => {
      const job = push(part('staging'));
      const configJob = createJob(part('staging', 'config'), job, job.trigger);
      await queue().queue.enqueue([job, configJob]);
      assert.equal((await drain()).length, 2);
    });

    test('enqueuing no jobs is a no-op', async () => {
      await queue().queue.enqueue([]);
      assert.equal(await queue().receive(), undefined);
    });
  });
}
