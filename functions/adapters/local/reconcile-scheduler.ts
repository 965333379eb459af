import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import { parseScheduleExpression } from '../../core/schedule-expression.ts';
import type { Logger } from './logger.ts';

/** When the checks run. */
export interface TickSchedule {
  /** The schedule as written, e.g. `cron(0 10 * * ? *)`. */
  readonly description: string;
  /** Whether a tick comes at start too: a rate's does (checks right away), a cron's come at its times only. */
  readonly ticksAtStart: boolean;
  /** The first tick strictly after `after`, or undefined when none is left (a cron's last year has passed). */
  next(after: Date): Date | undefined;
}

/** A tick every interval from the last one. */
export function everyInterval(intervalMs: number, description: string): TickSchedule {
  return { description, ticksAtStart: true, next: (after) => new Date(after.getTime() + intervalMs) };
}

/**
 * The schedule of a `settings.reconcileSchedule` that the configuration accepted: a rate as an interval, a cron
 * through croner as EventBridge runs it; with a warning when no tick is left after `now`.
 */
export function parseSchedule(
  expression: string,
  now = new Date(),
): { schedule: TickSchedule; warning?: string } {
  const parsed = parseScheduleExpression(expression);
  if (parsed.kind === 'rate') return { schedule: everyInterval(parsed.intervalMs, expression) };
  // As EventBridge reads it: in UTC, with 1 = SUN, and both day fields to match (one of them is always `*`).
  const cron = new Cron(parsed.pattern, {
    mode: '7-part',
    timezone: 'UTC',
    alternativeWeekdays: true,
    domAndDow: true,
  });
  const schedule: TickSchedule = {
    description: expression,
    ticksAtStart: false,
    next: (after) => cron.nextRun(after) ?? undefined,
  };
  if (schedule.next(now) !== undefined) return { schedule };
  return {
    schedule,
    warning: `settings.reconcileSchedule "${expression}" has no time left after ${now.toISOString()}: no scheduled checks`,
  };
}

/** Node's timers take at most 2^31 - 1 ms (a longer one fires after 1 ms): a longer wait is made of several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ReconcileSchedulerOptions<C, S> {
  readonly schedule: TickSchedule;
  /** One tick's checks, each with its jitter (see `planChecks`). */
  readonly plan: (
    tickId: string,
    now: Date,
  ) => readonly { readonly check: C; readonly delaySeconds: number }[];
  /** State shared by one tick's checks, e.g. a cache of the remotes' refs. */
  readonly newTick: () => S;
  readonly run: (check: C, tick: S) => Promise<void>;
  /** Identifies a check's environment part: a part still being checked is not checked again meanwhile. */
  readonly keyOf: (check: C) => string;
  readonly logger: Logger;
  /** Checks running at once at most. Default 4. */
  readonly concurrency?: number;
}

/**
 * The local mode's EventBridge schedule and check queue: at each of the schedule's times, a tick plans the checks
 * and runs each after its jitter (capped at the time to the next tick, so a short interval does not pile ticks
 * up), a few at a time.
 */
export class ReconcileScheduler<C, S> {
  readonly #options: ReconcileSchedulerOptions<C, S>;
  readonly #concurrency: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #waiting: { check: C; tick: S }[] = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  #wake: NodeJS.Timeout | undefined;
  #nextTickAt: Date | undefined;
  #stopping = false;

  constructor(options: ReconcileSchedulerOptions<C, S>) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** The time of the next tick, once started; undefined when the schedule has none left. */
  get nextTickAt(): Date | undefined {
    return this.#nextTickAt;
  }

  /** `cron(0/5 * * * ? *), next at 10:35 UTC`: with the date when it is not today's (UTC), seconds when set. */
  describe(now = new Date()): string {
    const { description } = this.#options.schedule;
    if (this.#nextTickAt === undefined) return `${description}, no time left`;
    const iso = this.#nextTickAt.toISOString();
    const time = iso.slice(11, iso.slice(17, 19) === '00' ? 16 : 19);
    const day = iso.slice(0, 10) === now.toISOString().slice(0, 10) ? '' : `${iso.slice(0, 10)} `;
    return `${description}, next at ${day}${time} UTC`;
  }

  /** Ticks at the schedule's times (and now, if it ticks at start) until stopped. */
  start(): void {
    if (this.#options.schedule.ticksAtStart) this.tick();
    this.#armAfter(new Date());
  }

  #armAfter(after: Date): void {
    this.#nextTickAt = this.#options.schedule.next(after);
    if (this.#nextTickAt === undefined) {
      this.#options.logger.warn('the reconcile schedule has no time left: no more scheduled checks', {
        schedule: this.#options.schedule.description,
      });
      return;
    }
    this.#sleepUntil(this.#nextTickAt);
  }

  /** Wakes at `at` to tick, through shorter waits when it is further than a timer takes. */
  #sleepUntil(at: Date): void {
    if (this.#stopping) return;
    const waitMs = at.getTime() - Date.now();
    // Timers may fire a millisecond early against the wall clock: a tick before its time would be planned
    // again for the same time, so an early wake just waits out the rest.
    if (waitMs > 0) {
      this.#wake = setTimeout(() => this.#sleepUntil(at), Math.min(waitMs, MAX_TIMER_MS));
      return;
    }
    this.tick();
    // Never before this tick's time, should the wall clock step back: that would tick at that time again.
    this.#armAfter(new Date(Math.max(Date.now(), at.getTime())));
  }

  /** Plans one tick's checks. */
  tick(): void {
    if (this.#stopping) return;
    const now = new Date();
    const tickId = `local-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
    const untilNextMs =
      (this.#options.schedule.next(now)?.getTime() ?? Number.POSITIVE_INFINITY) - now.getTime();
    let planned: readonly { readonly check: C; readonly delaySeconds: number }[];
    try {
      planned = this.#options.plan(tickId, now);
    } catch (error) {
      this.#options.logger.error('checks could not be planned', { tick: tickId, error });
      return;
    }
    this.#options.logger.info('checks scheduled', { tick: tickId, checks: planned.length });
    const tick = this.#options.newTick();
    for (const { check, delaySeconds } of planned) {
      const delayMs = Math.min(Math.max(0, delaySeconds * 1000), untilNextMs);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#waiting.push({ check, tick });
        this.#next();
      }, delayMs);
      this.#timers.add(timer);
    }
  }

  /** Stops ticking, drops the checks not started yet and waits for the running ones. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#wake);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#waiting.length = 0;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  #next(): void {
    while (!this.#stopping && this.#inFlight.size < this.#concurrency) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      const key = this.#options.keyOf(next.check);
      if (this.#inFlight.has(key)) {
        this.#options.logger.info('check skipped: the previous one is still running', { check: key });
        continue;
      }
      const running = this.#options
        .run(next.check, next.tick)
        .catch((error: unknown) => this.#options.logger.error('check failed', { check: key, error }))
        .finally(() => {
          this.#inFlight.delete(key);
          this.#next();
        });
      this.#inFlight.set(key, running);
    }
  }
}
