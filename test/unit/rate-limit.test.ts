import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestThrottle } from '../../functions/adapters/kubernetes/rate-limit.ts';

describe('RequestThrottle', () => {
  test('a burst passes at once, then requests are spaced at the rate', () => {
    let now = 1_000;
    const throttle = new RequestThrottle({ perSecond: 10, burst: 3 }, () => now);
    assert.deepEqual([throttle.reserve(), throttle.reserve(), throttle.reserve()], [0, 0, 0]);
    // The fourth and fifth wait one and two intervals of 100 ms.
    assert.equal(throttle.reserve(), 100);
    assert.equal(throttle.reserve(), 200);
    now += 500;
    // Half a second later the bucket holds what that time refilled, less what the waiting two took.
    assert.deepEqual([throttle.reserve(), throttle.reserve(), throttle.reserve()], [0, 0, 0]);
    assert.equal(throttle.reserve(), 100);
  });

  test('a long pause refills the burst and no more', () => {
    let now = 0;
    const throttle = new RequestThrottle({ perSecond: 100, burst: 2 }, () => now);
    throttle.reserve();
    throttle.reserve();
    now += 60_000;
    assert.deepEqual([throttle.reserve(), throttle.reserve(), throttle.reserve()], [0, 0, 10]);
  });

  test('take() holds a request past the burst until its slot', async () => {
    const throttle = new RequestThrottle({ perSecond: 1, burst: 1 });
    await throttle.take();
    // Its slot is a second away: a 50 ms timer wins the race however loaded the machine is.
    const next = throttle.take().then(() => 'sent');
    const first = await Promise.race([next, sleep(50).then(() => 'held')]);
    assert.equal(first, 'held');
  });

  test('refuses a limit that lets nothing through', () => {
    assert.throws(() => new RequestThrottle({ perSecond: 0, burst: 10 }), RangeError);
    assert.throws(() => new RequestThrottle({ perSecond: 10, burst: 0 }), RangeError);
  });
});
