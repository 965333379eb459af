import { randomBytes } from 'node:crypto';
import type { Logger } from './logger.ts';

/** The reconciler's default: `rate(5 minutes)`. */
export const DEFAULT_INTERVAL_MS = 5 * 60 * 1000;

const UNITS: Readonly<Record<string, number>> = {
  second: 1000,
  minute: 60 * 1000,
  hour: 3600 * 1000,
  day: 24 * 3600 * 1000,
};

/** A schedule expression that the local mode cannot run. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/**
 * The interval of an EventBridge schedule expression: `rate(N unit)` with seconds, minutes, hours or days
 * (singular or plural). `cron(...)` is not run by the local mode: it falls back to `rate(5 minutes)` with a
 * warning. Anything else throws.
 */
export function parseSchedule(expression: string): { intervalMs: number; warning?: string } {
  const rate = /^rate\(\s*(\d+)\s+([a-z]+?)s?\s*\)$/i.exec(expression.trim());
  if (rate !== null) {
    const count = Number(rate[1]);
    const unit = UNITS[(rate[2] ?? '').toLowerCase()];
    if (unit === undefined || count < 1) {
      throw new ScheduleError(
        `settings.reconcileSchedule "${expression}" is not a rate of N seconds, minutes, hours or days`,
      );
    }
    return { intervalMs: count * unit };
  }
  if (/^cron\(.*\)$/i.test(expression.trim())) {
    return {
      intervalMs: DEFAULT_INTERVAL_MS,
      warning: `settings.reconcileSchedule "${expression}": cron(...) schedules are not supported in local mode; checking every 5 minutes instead (rate(...) or --reconcile-interval-seconds set another interval)`,
    };
  }
  throw new ScheduleError(`settings.reconcileSchedule "${expression}" must be rate(...) or cron(...)`);
}

export interface ReconcileSchedulerOptions<C, S> {
  readonly intervalMs: number;
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
 * The local mode's EventBridge schedule and check queue: every interval, a tick plans the checks and runs each
 * after its jitter (capped at one interval, so a short interval does not pile ticks up), a few at a time.
 */
export class ReconcileScheduler<C, S> {
  readonly #options: ReconcileSchedulerOptions<C, S>;
  readonly #concurrency: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #waiting: { check: C; tick: S }[] = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  #interval: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(options: ReconcileSchedulerOptions<C, S>) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Ticks now, then every interval. */
  start(): void {
    this.tick();
    this.#interval = setInterval(() => this.tick(), this.#options.intervalMs);
  }

  /** Plans one tick's checks. */
  tick(): void {
    if (this.#stopping) return;
    const tickId = `local-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let planned: readonly { readonly check: C; readonly delaySeconds: number }[];
    try {
      planned = this.#options.plan(tickId, new Date());
    } catch (error) {
      this.#options.logger.error('checks could not be planned', { tick: tickId, error });
      return;
    }
    this.#options.logger.info('checks scheduled', { tick: tickId, checks: planned.length });
    const tick = this.#options.newTick();
    for (const { check, delaySeconds } of planned) {
      const delayMs = Math.min(delaySeconds * 1000, this.#options.intervalMs);
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
    clearInterval(this.#interval);
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
