// The local mode's reconcile schedule: EventBridge rate and cron expressions as the local mode runs them (next
// times from fixed dates, through croner), what it refuses, and the tick loop on a mocked clock.
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import {
  everyInterval,
  parseSchedule,
  ReconcileScheduler,
  type TickSchedule,
} from '../../functions/adapters/local/reconcile-scheduler.ts';
import { ConfigError, parseConfig } from '../../functions/core/config.ts';
import {
  parseScheduleExpression,
  ScheduleExpressionError,
} from '../../functions/core/schedule-expression.ts';

/** The first `count` ticks after `from`. */
function runs(expression: string, from: string, count = 3): string[] {
  const { schedule } = parseSchedule(expression);
  const out: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i += 1) {
    const next = schedule.next(after);
    if (next === undefined) break;
    out.push(next.toISOString().replace(':00.000Z', 'Z'));
    after = next;
  }
  return out;
}

/** Friday 30 January 2026, 16:58 UTC: a weekend, a short February and a month's end ahead. */
const FRIDAY = '2026-01-30T16:58:00Z';

describe('cron(...) in the local mode', () => {
  test("the examples of EventBridge's documentation, in UTC", () => {
    assert.deepEqual(runs('cron(0 10 * * ? *)', FRIDAY), [
      '2026-01-31T10:00Z',
      '2026-02-01T10:00Z',
      '2026-02-02T10:00Z',
    ]);
    assert.deepEqual(runs('cron(15 12 * * ? *)', FRIDAY), [
      '2026-01-31T12:15Z',
      '2026-02-01T12:15Z',
      '2026-02-02T12:15Z',
    ]);
    assert.deepEqual(runs('cron(0 18 ? * MON-FRI *)', FRIDAY), [
      '2026-01-30T18:00Z',
      '2026-02-02T18:00Z',
      '2026-02-03T18:00Z',
    ]);
    assert.deepEqual(runs('cron(0 8 1 * ? *)', FRIDAY), [
      '2026-02-01T08:00Z',
      '2026-03-01T08:00Z',
      '2026-04-01T08:00Z',
    ]);
    assert.deepEqual(runs('cron(0/15 * * * ? *)', FRIDAY), [
      '2026-01-30T17:00Z',
      '2026-01-30T17:15Z',
      '2026-01-30T17:30Z',
    ]);
    assert.deepEqual(runs('cron(0/10 * ? * MON-FRI *)', '2026-01-30T23:45:00Z'), [
      '2026-01-30T23:50Z',
      '2026-02-02T00:00Z',
      '2026-02-02T00:10Z',
    ]);
    assert.deepEqual(runs('cron(0/5 8-17 ? * MON-FRI *)', '2026-01-30T17:52:00Z'), [
      '2026-01-30T17:55Z',
      '2026-02-02T08:00Z',
      '2026-02-02T08:05Z',
    ]);
    assert.deepEqual(runs('cron(0 9 ? * 2#1 *)', FRIDAY), [
      '2026-02-02T09:00Z',
      '2026-03-02T09:00Z',
      '2026-04-06T09:00Z',
    ]);
    assert.deepEqual(runs('cron(0 12 ? * 3#2 *)', FRIDAY), [
      '2026-02-10T12:00Z',
      '2026-03-10T12:00Z',
      '2026-04-14T12:00Z',
    ]);
  });

  test('L and W: the last day, the last weekday, the weekday nearest a day, the last Friday, Saturday', () => {
    assert.deepEqual(runs('cron(0 12 L * ? *)', FRIDAY), [
      '2026-01-31T12:00Z',
      '2026-02-28T12:00Z',
      '2026-03-31T12:00Z',
    ]);
    // 31 January and 28 February are Saturdays.
    assert.deepEqual(runs('cron(0 12 LW * ? *)', '2026-01-01T00:00:00Z'), [
      '2026-01-30T12:00Z',
      '2026-02-27T12:00Z',
      '2026-03-31T12:00Z',
    ]);
    // 15 February and 15 March are Sundays: the Monday after.
    assert.deepEqual(runs('cron(0 12 15W * ? *)', FRIDAY), [
      '2026-02-16T12:00Z',
      '2026-03-16T12:00Z',
      '2026-04-15T12:00Z',
    ]);
    // 1 August is a Saturday: the Monday after, never the Friday of July.
    assert.deepEqual(runs('cron(0 12 1W * ? *)', '2026-07-15T00:00:00Z'), [
      '2026-08-03T12:00Z',
      '2026-09-01T12:00Z',
      '2026-10-01T12:00Z',
    ]);
    assert.deepEqual(runs('cron(0 12 ? * 6L *)', FRIDAY), [
      '2026-02-27T12:00Z',
      '2026-03-27T12:00Z',
      '2026-04-24T12:00Z',
    ]);
    assert.deepEqual(runs('cron(0 12 ? * L *)', FRIDAY), [
      '2026-01-31T12:00Z',
      '2026-02-07T12:00Z',
      '2026-02-14T12:00Z',
    ]);
  });

  test("EventBridge's day numbers, names in any case, starts with increments, and years", () => {
    assert.deepEqual(runs('cron(0 12 ? * 1,7 *)', FRIDAY), [
      '2026-01-31T12:00Z',
      '2026-02-01T12:00Z',
      '2026-02-07T12:00Z',
    ]);
    assert.deepEqual(runs('cron(0 18 ? * mon-fri *)', FRIDAY), runs('cron(0 18 ? * 2-6 *)', FRIDAY));
    assert.deepEqual(runs('cron(5/20 * * * ? *)', FRIDAY), [
      '2026-01-30T17:05Z',
      '2026-01-30T17:25Z',
      '2026-01-30T17:45Z',
    ]);
    assert.deepEqual(runs('cron(0 0 1 JAN/6 ? *)', FRIDAY), [
      '2026-07-01T00:00Z',
      '2027-01-01T00:00Z',
      '2027-07-01T00:00Z',
    ]);
    assert.deepEqual(runs('cron(0 0 1 1 ? 2027/2)', FRIDAY), [
      '2027-01-01T00:00Z',
      '2029-01-01T00:00Z',
      '2031-01-01T00:00Z',
    ]);
    // Every third year from 1970, as EventBridge counts them (from year 0, 2028 would come first).
    assert.deepEqual(runs('cron(0 0 1 1 ? */3)', FRIDAY, 2), ['2027-01-01T00:00Z', '2030-01-01T00:00Z']);
  });

  test('a schedule whose years have passed runs nothing, and says so', () => {
    const { schedule, warning } = parseSchedule('cron(0 10 * * ? 2020)', new Date(FRIDAY));
    assert.equal(schedule.next(new Date(FRIDAY)), undefined);
    assert.match(warning ?? '', /"cron\(0 10 \* \* \? 2020\)" has no time left after 2026-01-30/);
    assert.equal(parseSchedule('cron(0 10 * * ? 2020-2199)').warning, undefined);
  });
});

describe('rate(...) in the local mode', () => {
  test('an interval from the last tick, the first one at start', () => {
    const expected: [string, number][] = [
      ['rate(5 minutes)', 300_000],
      ['rate(1 minute)', 60_000],
      ['rate(2 hours)', 7_200_000],
      ['rate(1 day)', 86_400_000],
    ];
    for (const [expression, intervalMs] of expected) {
      const { schedule, warning } = parseSchedule(expression);
      assert.equal(warning, undefined);
      assert.equal(schedule.ticksAtStart, true);
      assert.equal(schedule.next(new Date(FRIDAY))?.getTime(), Date.parse(FRIDAY) + intervalMs, expression);
    }
    assert.equal(parseSchedule('cron(0 10 * * ? *)').schedule.ticksAtStart, false);
  });
});

/** The message an expression is refused with. */
function refusal(expression: string): string {
  try {
    parseScheduleExpression(expression);
  } catch (error) {
    assert.ok(error instanceof ScheduleExpressionError);
    assert.throws(() => parseSchedule(expression), ScheduleExpressionError, 'the local mode refuses it too');
    return error.message;
  }
  assert.fail(`${expression} was accepted`);
}

describe('what cannot be run as EventBridge runs it is refused, naming the field and the fix', () => {
  test('cron', () => {
    assert.match(refusal('cron(0 10 * * ?)'), /has 5 fields; EventBridge takes 6 \(minutes hours/);
    assert.match(refusal('cron(0 10 * * * *)'), /exactly one of day-of-month and day-of-week must be \?/);
    assert.match(refusal('cron(0 10 ? * ? *)'), /exactly one of day-of-month and day-of-week must be \?/);
    assert.match(refusal('cron(0 10 ? * 3#1,6#3 *)'), /day-of-week "3#1,6#3": # .* stands alone/);
    assert.match(refusal('cron(0 10 ? * 2#6 *)'), /day-of-week "2#6": # takes one weekday and its week 1-5/);
    assert.match(refusal('cron(0 10 ? * MON/2 *)'), /day-of-week "MON\/2": EventBridge takes no \/ here/);
    assert.match(refusal('cron(0 10 ? * 1,6L *)'), /day-of-week "1,6L": L and nL stand alone/);
    assert.match(
      refusal('cron(0 10 L-3 * ? *)'),
      /day-of-month "L-3": days before the last are not supported/,
    );
    assert.match(refusal('cron(0 10 1W,15W * ? *)'), /day-of-month "1W,15W": L, LW and nW stand alone/);
    assert.match(refusal('cron(0 24 * * ? *)'), /hours "24": "24" is not 0-23/);
    assert.match(refusal('cron(0 10 ? * 0 *)'), /day-of-week "0": "0" is not 1-7 or SUN-SAT/);
    assert.match(refusal('cron(0 10 * FOO ? *)'), /month "FOO": "FOO" is not 1-12 or JAN-DEC/);
    assert.match(refusal('cron(0 10 * * ? 1969)'), /year "1969": "1969" is not 1970-2199/);
    assert.match(
      refusal('cron(0 22-2 * * ? *)'),
      /hours "22-2": the range 22-2 runs backwards; split it: 22-23,0-2/,
    );
    assert.match(refusal('cron(0 10 ? * FRI-MON *)'), /split it: FRI-SAT,SUN-MON/);
    assert.match(refusal('cron(0/0 * * * ? *)'), /minutes "0\/0": the step \/0 must be 1 to 59/);
  });

  test('rate', () => {
    assert.match(refusal('rate(30 seconds)'), /start at 1 minute; .* --reconcile-interval-seconds 30/);
    assert.match(refusal('rate(5 minute)'), /EventBridge wants rate\(5 minutes\)/);
    assert.match(refusal('rate(1 hours)'), /EventBridge wants rate\(1 hour\)/);
    assert.match(refusal('rate(0 minutes)'), /the value must be 1 or more/);
    assert.match(refusal('rate(5 fortnights)'), /the unit must be minutes, hours or days/);
    assert.match(refusal('rate(five minutes)'), /write rate\(N minutes\)/);
    assert.equal(refusal('every 5 minutes'), 'must be rate(...) or cron(...)');
  });
});

/** Runs what the resolved promises and the due timers' callbacks started (setImmediate is not mocked). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the configuration and the local mode agree', () => {
  const configWith = (reconcileSchedule: string) => ({
    repositories: [
      { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: 'shop' },
    ],
    clusters: [{ name: 'prod', type: 'eks', clusterName: 'prod' }],
    apps: [
      {
        name: 'web',
        repository: 'shop',
        path: 'deploy',
        environments: [{ name: 'prod', cluster: 'prod', namespace: 'web', trigger: { branches: ['main'] } }],
      },
    ],
    settings: { reconcileSchedule },
  });
  test('what the configuration (and so the stack) accepts, the local mode runs; what it refuses, both refuse', () => {
    const accepted = [
      'rate(5 minutes)',
      'rate(1 day)',
      'cron(0 10 * * ? *)',
      'cron(0/5 8-17 ? * MON-FRI *)',
      'cron(0 9 ? * 2#1 *)',
      'cron(0 12 L * ? *)',
      'cron(0 12 LW * ? *)',
      'cron(0 12 15W * ? *)',
      'cron(0 12 ? * 6L *)',
      'cron(0 12 ? * L 2026-2199/2)',
    ];
    for (const expression of accepted) {
      const configured = parseConfig(configWith(expression)).settings.reconcileSchedule;
      assert.notEqual(parseSchedule(configured).schedule.next(new Date(FRIDAY)), undefined, expression);
    }
    const refused = [
      'rate(30 seconds)',
      'rate(2 minute)',
      'cron(0 10 * * * *)',
      'cron(0 10 ? * 3#1,6#3 *)',
      'cron(0 10 L-2 * ? *)',
      'cron(0 10 ? * FRI-MON *)',
      'cron(0 10 * * ?)',
    ];
    for (const expression of refused) {
      assert.throws(
        () => parseConfig(configWith(expression)),
        (error: unknown) =>
          error instanceof ConfigError && /^ {2}settings\.reconcileSchedule: /m.test(error.message),
        expression,
      );
      assert.throws(() => parseSchedule(expression), ScheduleExpressionError, expression);
    }
  });
});

/** A scheduler of one check per tick on a mocked clock, recording the ticks' times. */
function recording(t: TestContext, schedule: TickSchedule, now: string) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse(now) });
  const ticks: string[] = [];
  const checked: string[] = [];
  const scheduler = new ReconcileScheduler<string, string>({
    schedule,
    logger: createLogger({ write: () => undefined }),
    plan: (_tickId, at) => {
      ticks.push(at.toISOString());
      return [{ check: 'web', delaySeconds: 0 }];
    },
    newTick: () => ticks.at(-1) ?? '',
    keyOf: (check) => check,
    run: async (check, tick) => {
      checked.push(`${check}@${tick}`);
    },
  });
  const advance = async (ms: number) => {
    t.mock.timers.tick(ms);
    await settle();
  };
  return { scheduler, ticks, checked, advance };
}

describe('ReconcileScheduler', () => {
  test('a cron schedule ticks at its times only, and the start line names the next', async (t) => {
    const { schedule } = parseSchedule('cron(0/5 * * * ? *)');
    const { scheduler, ticks, checked, advance } = recording(t, schedule, '2026-01-05T10:34:30Z');
    scheduler.start();
    assert.equal(scheduler.describe(), 'cron(0/5 * * * ? *), next at 10:35 UTC');
    await advance(29_999);
    assert.deepEqual(ticks, [], 'no tick at start, none before its time');
    await advance(1);
    assert.deepEqual(ticks, ['2026-01-05T10:35:00.000Z']);
    assert.deepEqual(checked, ['web@2026-01-05T10:35:00.000Z'], 'the tick ran its check');
    await advance(5 * 60_000);
    assert.deepEqual(ticks, ['2026-01-05T10:35:00.000Z', '2026-01-05T10:40:00.000Z']);
    assert.equal(scheduler.describe(), 'cron(0/5 * * * ? *), next at 10:45 UTC');
    await scheduler.stop();
    await advance(10 * 60_000);
    assert.equal(ticks.length, 2, 'no tick after stop');
  });

  test('a tick on another day is named with its date; a schedule with no time left says so', async (t) => {
    const daily = recording(t, parseSchedule('cron(0 9 ? * 2#1 *)').schedule, '2026-01-05T10:34:30Z');
    daily.scheduler.start();
    assert.equal(daily.scheduler.describe(), 'cron(0 9 ? * 2#1 *), next at 2026-02-02 09:00 UTC');
    await daily.scheduler.stop();
    const seconds = new ReconcileScheduler<string, undefined>({
      schedule: everyInterval(45_000, 'every 45s'),
      logger: createLogger({ write: () => undefined }),
      plan: () => [],
      newTick: () => undefined,
      keyOf: (check) => check,
      run: async () => undefined,
    });
    seconds.start();
    assert.equal(seconds.describe(), 'every 45s, next at 10:35:15 UTC');
    await seconds.stop();
    const over = new ReconcileScheduler<string, undefined>({
      schedule: parseSchedule('cron(0 10 * * ? 2020)').schedule,
      logger: createLogger({ write: () => undefined }),
      plan: () => [],
      newTick: () => undefined,
      keyOf: (check) => check,
      run: async () => undefined,
    });
    over.start();
    assert.equal(over.describe(), 'cron(0 10 * * ? 2020), no time left');
    await over.stop();
  });

  test('a rate ticks at start and then every interval, longer intervals than one timer takes too', async (t) => {
    const { schedule } = parseSchedule('rate(30 days)');
    const { scheduler, ticks, advance } = recording(t, schedule, '2026-01-05T10:00:00Z');
    scheduler.start();
    assert.deepEqual(ticks, ['2026-01-05T10:00:00.000Z']);
    await advance(25 * 86_400_000);
    assert.equal(ticks.length, 1, 'not before its time');
    await advance(5 * 86_400_000);
    assert.deepEqual(ticks, ['2026-01-05T10:00:00.000Z', '2026-02-04T10:00:00.000Z']);
    await scheduler.stop();
  });

  test('a check still running is not started again; stop waits for it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-05T10:00:00Z') });
    const ticks: string[] = [];
    const runs: string[] = [];
    let slowRunning = 0;
    let slowMax = 0;
    const scheduler = new ReconcileScheduler<string, { tick: string }>({
      schedule: everyInterval(50, 'every 50 ms'),
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
        if (check !== 'slow') return;
        slowRunning += 1;
        slowMax = Math.max(slowMax, slowRunning);
        await new Promise((resolve) => setTimeout(resolve, 130));
        slowRunning -= 1;
      },
    });
    scheduler.start();
    for (let ms = 0; ms < 180; ms += 10) {
      t.mock.timers.tick(10);
      await settle();
    }
    // Ticks at 0, 50, 100 and 150 ms; the slow check runs from 0 to 130 ms and again from 150 ms.
    assert.equal(ticks.length, 4);
    assert.deepEqual(
      runs.filter((r) => r.startsWith('slow@')),
      [`slow@${ticks[0]}`, `slow@${ticks[3]}`],
    );
    assert.equal(runs.filter((r) => r.startsWith('fast@')).length, 4, 'the fast check ran every tick');
    assert.equal(slowMax, 1, 'never two slow checks at once');
    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(stopped, false, 'stop waits for the running check');
    t.mock.timers.tick(100);
    await stopping;
    assert.equal(slowRunning, 0);
    t.mock.timers.tick(1000);
    await settle();
    assert.equal(ticks.length, 4, 'no tick after stop');
  });

  test('on real timers, a wait longer than one timer takes does not fire early', async () => {
    let ticks = 0;
    const scheduler = new ReconcileScheduler<string, undefined>({
      schedule: parseSchedule('rate(30 days)').schedule,
      logger: createLogger({ write: () => undefined }),
      plan: () => {
        ticks += 1;
        return [];
      },
      newTick: () => undefined,
      keyOf: (check) => check,
      run: async () => undefined,
    });
    scheduler.start();
    // A timer longer than Node takes fires after 1 ms: each wake must find that the time has not come. A
    // loaded machine could only hide an early tick, never make one up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await scheduler.stop();
    assert.equal(ticks, 1, 'the tick at start only');
  });

  test('on real timers, a short schedule keeps ticking (however loaded the machine)', async () => {
    let ticks = 0;
    const scheduler = new ReconcileScheduler<string, undefined>({
      schedule: everyInterval(20, 'every 20 ms'),
      logger: createLogger({ write: () => undefined }),
      plan: () => {
        ticks += 1;
        return [];
      },
      newTick: () => undefined,
      keyOf: (check) => check,
      run: async () => undefined,
    });
    scheduler.start();
    const deadline = Date.now() + 30_000;
    while (ticks < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.stop();
    assert.ok(ticks >= 3, `ticked ${ticks} times in 30 s`);
  });
});
