import { setTimeout as sleep } from 'node:timers/promises';

/** A bound on the requests one process sends to one cluster: so many a second on average, so many at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * Ferry's default, per cluster and process. client-go's default (5/s, bursts of 10, raised to 50 and 100 by
 * controllers) assumes a controller that runs forever; a deployment is a short burst whose every object needs a
 * dry-run and an apply. What keeps the API server healthy is the bound on requests in flight (16 a process, ten
 * workers) and the retries of what it turns away; this rate, at which a 1,000-object first apply runs
 * unthrottled, stops a runaway (a retry storm, hundreds of checks in one warm process) from going further.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 1000, burst: 2000 };

/**
 * A token bucket as the generic cell rate algorithm: each request reserves the next slot in arrival order, and
 * waits only when the bucket's burst is spent. No timer runs while no request waits.
 */
export class RequestThrottle {
  readonly #interval: number;
  readonly #allowance: number;
  readonly #now: () => number;
  /** When the bucket would be empty again if no more requests came: the theoretical arrival time. */
  #due: number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError('a rate limit needs perSecond > 0 and burst >= 1');
    }
    this.#interval = 1000 / limit.perSecond;
    this.#allowance = limit.burst * this.#interval;
    this.#now = now;
    this.#due = now();
  }

  /** Milliseconds the next request must wait; reserves its slot. */
  reserve(): number {
    const now = this.#now();
    this.#due = Math.max(this.#due, now) + this.#interval;
    return Math.max(0, this.#due - this.#allowance - now);
  }

  /** Resolves when the next request may be sent. */
  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait);
  }
}
