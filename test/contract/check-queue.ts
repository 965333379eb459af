// The contract of the reconciler's check queue (port `CheckQueue`), run against every adapter that implements
// it: every check arrives once, as it was sent, after its delay.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkIdOf, type EnvironmentCheck } from '../../functions/core/model/check.ts';
import type { CheckQueue } from '../../functions/core/ports.ts';

/** An adapter under test, fresh for each test; `close` frees what it holds. */
export interface CheckQueueUnderTest {
  readonly queue: CheckQueue;
  /** The checks that arrived since the last call, each taken (and acknowledged) once. */
  arrived(): Promise<EnvironmentCheck[]>;
  close(): Promise<void>;
}

/** How long a suite waits for checks to arrive at most: a bound on the test, not an assertion on timing. */
const PATIENCE_MS = 30_000;

const checkOf = (tickId: string, environment: string, part: 'app' | 'config' = 'app'): EnvironmentCheck => ({
  app: 'shop',
  environment,
  part,
  tickId,
  scheduledAt: '2026-11-02T10:00:00.000Z',
});

export function checkQueueContract(adapter: string, open: () => Promise<CheckQueueUnderTest>): void {
  describe(`check queue contract: ${adapter}`, () => {
    let underTest: CheckQueueUnderTest | undefined;
    const queue = () => {
      assert.ok(underTest !== undefined, 'the adapter was opened');
      return underTest;
    };
    beforeEach(async () => {
      underTest = await open();
    });
    afterEach(() => underTest?.close());

    /** Collects arrivals until `count` checks arrived or the patience ran out, then a little longer for extras. */
    async function collect(count: number): Promise<EnvironmentCheck[]> {
      const deadline = Date.now() + PATIENCE_MS;
      const arrived: EnvironmentCheck[] = [];
      while (arrived.length < count && Date.now() < deadline) {
        arrived.push(...(await queue().arrived()));
        if (arrived.length < count) await sleep(200);
      }
      await sleep(500);
      arrived.push(...(await queue().arrived()));
      return arrived;
    }
    const ids = (checks: readonly EnvironmentCheck[]) => checks.map(checkIdOf).sort();

    test('checks with and without a delay each arrive once, as they were sent', async () => {
      const checks = [
        checkOf('t1', 'staging'),
        checkOf('t1', 'staging', 'config'),
        checkOf('t1', 'production'),
      ];
      await queue().queue.enqueueChecks([
        { check: checks[0] as EnvironmentCheck, delaySeconds: 0 },
        { check: checks[1] as EnvironmentCheck, delaySeconds: 1 },
        { check: checks[2] as EnvironmentCheck, delaySeconds: 2 },
      ]);
      const arrived = await collect(checks.length);
      assert.deepEqual(ids(arrived), ids(checks));
      assert.deepEqual(
        new Map(arrived.map((check) => [checkIdOf(check), check])),
        new Map(checks.map((check) => [checkIdOf(check), check])),
      );
    });

    test('a tick of many checks (more batches than are sent at once) arrives whole', async () => {
      const checks = Array.from({ length: 123 }, (_, i) => checkOf('t2', `env-${i}`));
      await queue().queue.enqueueChecks(checks.map((check, i) => ({ check, delaySeconds: i % 2 })));
      assert.deepEqual(ids(await collect(checks.length)), ids(checks));
    });

    test('a fractional or negative delay is taken as it comes: the check arrives', async () => {
      const checks = [checkOf('t3', 'staging'), checkOf('t3', 'production')];
      await queue().queue.enqueueChecks([
        { check: checks[0] as EnvironmentCheck, delaySeconds: 0.4 },
        { check: checks[1] as EnvironmentCheck, delaySeconds: -5 },
      ]);
      assert.deepEqual(ids(await collect(checks.length)), ids(checks));
    });

    test('a delay beyond what the queue can hold is accepted, not refused', async () => {
      await queue().queue.enqueueChecks([{ check: checkOf('t4', 'staging'), delaySeconds: 3600 }]);
    });

    test('enqueuing no checks is a no-op', async () => {
      await queue().queue.enqueueChecks([]);
      assert.deepEqual(await queue().arrived(), []);
    });
  });
}
