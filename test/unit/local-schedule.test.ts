// The local mode's reconcile schedule: EventBridge rate expressions, cron's fallback, and the tick loop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import {
  parseSchedule,
  ReconcileScheduler,
  ScheduleError,
} from '../../functions/adapters/local/reconcile-scheduler.ts';

describe('parseSchedule', () => {
  test('rate expressions', () => {
    assert.deepEqual(parseSchedule('rate(5 minutes)'), { intervalMs: 300_000 });
    assert.deepEqual(parseSchedule('rate(1 minute)'), { intervalMs: 60_000 });
    assert.deepEqual(parseSchedule('rate(30 seconds)'), { intervalMs: 30_000 });
    assert.deepEqual(parseSchedule('rate(2 hours)'), { intervalMs: 7_200_000 });
    assert.deepEqual(parseSchedule('rate(1 day)'), { intervalMs: 86_400_000 });
  });

  test('cron falls back to five minutes with a warning', () => {
    const { intervalMs, warning } = parseSchedule('cron(0/10 * * * ? *)');
    assert.equal(intervalMs, 300_000);
    assert.match(warning ?? '', /cron\(\.\.\.\) schedules are not supported in local mode/);
  });

  test('anything else is refused', () => {
    assert.throws(() => parseSchedule('rate(5 fortnights)'), ScheduleError);
    assert.throws(() => parseSchedule('rate(0 minutes)'), ScheduleError);
    assert.throws(() => parseSchedule('every 5 minutes'), ScheduleError);
  });
});

describe('ReconcileScheduler', () => {
  test('ticks at once and every interval; a check still running is not started again; stop waits', async () => {
    const ticks: string[] = [];
    const runs: string[] = [];
    let slowRunning = 0;
    let slowMax = 0;
    let slowFinished = 0;
    const scheduler = new ReconcileScheduler<string, { tick: string }>({
      intervalMs: 50,
      logger: createLogger({ write: () => undefined }),
      plan: (tickId) => {
        ticks.push(tickId);
        return [
          { check: 'fast', delaySeconds: 0 },
          { check: 'slow', delaySeconds: 0 },
        ];
      },
      newTick: () => ({ tick: ticks.at(-1) ?? '' }),
      keyOf: (check) => check,
      run: async (check, tick) => {
        runs.push(`${check}@${tick.tick}`);
        if (check === 'slow') {
          slowRunning += 1;
          slowMax = Math.max(slowMax, slowRunning);
          await sleep(130);
          slowRunning -= 1;
          slowFinished += 1;
        }
      },
    });
    scheduler.start();
    await sleep(180);
    await scheduler.stop();
    const ticksAtStop = ticks.length;
    assert.ok(ticksAtStop >= 3, `ticked ${ticksAtStop} times`);
    assert.equal(
      runs.filter((r) => r.startsWith('fast@')).length,
      ticksAtStop,
      'the fast check ran every tick',
    );
    assert.equal(slowMax, 1, 'never two slow checks at once');
    assert.ok(runs.filter((r) => r.startsWith('slow@')).length < ticksAtStop, 'slow checks were skipped');
    assert.equal(slowRunning, 0, 'stop waited for the running check');
    assert.ok(slowFinished >= 1);
    await sleep(100);
    assert.equal(ticks.length, ticksAtStop, 'no tick after stop');
  });
});
