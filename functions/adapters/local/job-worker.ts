import { errorMessage } from '../../core/errors.ts';
import { DEPLOY_MAX_RECEIVE_COUNT } from '../../names.ts';
import type { Logger } from './logger.ts';
import type { ClaimedJob, SqliteJobQueue } from './sqlite-job-queue.ts';

/** How a claimed job ended this time. */
export type JobOutcome<T> =
  | { readonly kind: 'done'; readonly result: T }
  | { readonly kind: 'retry'; readonly error: string; readonly delayMs: number }
  | { readonly kind: 'dead'; readonly error: string };

export interface JobWorkerOptions<T> {
  readonly logger: Logger;
  /** Groups (environment parts) run in parallel at most; one job at a time per group. Default 4. */
  readonly concurrency?: number;
  /** Runs of a job before it is dead-lettered, as the SQS queue's maxReceiveCount. Default: the same. */
  readonly maxAttempts?: number;
  /** Wait before the retry after the given (1-based) failed attempt. Default 5 s, doubling, at most 5 min. */
  readonly retryDelayMs?: (attempt: number) => number;
  /**
   * Errors after which a job is postponed without counting the attempt: it could not start (its part is being
   * deployed by another worker), so it has not failed.
   */
  readonly postpones?: (error: unknown) => boolean;
  /** Wait before a postponed job runs again. Default 5 s. */
  readonly postponeDelayMs?: number;
  /** How often the queue is polled for jobs that another process enqueued or that became due. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** Only this group's jobs are taken. */
  readonly group?: string;
  /** Called after each run of a job. */
  readonly onSettled?: (claimed: ClaimedJob, outcome: JobOutcome<T>) => void;
}

const defaultRetryDelay = (attempt: number) => Math.min(5000 * 2 ** (attempt - 1), 5 * 60 * 1000);

/**
 * The in-process worker loop over the local queue: one job at a time per group, up to `concurrency` groups in
 * parallel. A job that throws (a deployment throws its transient failures) is retried with backoff, up to
 * `maxAttempts` runs, and then moved to the dead-letter table with its last error, as SQS moves a message to
 * its DLQ. A job that `postpones` is tried again later without counting the run.
 */
export class JobWorker<T> {
  readonly #queue: SqliteJobQueue;
  readonly #run: (claimed: ClaimedJob) => Promise<T>;
  readonly #options: JobWorkerOptions<T>;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #active = new Set<Promise<void>>();
  readonly #wakeups = new Set<NodeJS.Timeout>();
  #poll: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #started = false;
  #stopping = false;

  constructor(queue: SqliteJobQueue, run: (claimed: ClaimedJob) => Promise<T>, options: JobWorkerOptions<T>) {
    this.#queue = queue;
    this.#run = run;
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? DEPLOY_MAX_RECEIVE_COUNT);
  }

  /** The jobs running now. */
  get running(): number {
    return this.#active.size;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe = this.#queue.subscribe(() => this.#pump());
    this.#poll = setInterval(() => this.#pump(), this.#options.pollIntervalMs ?? 1000);
    this.#pump();
  }

  /** Stops taking jobs and resolves once the running ones have finished; queued jobs stay queued. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#poll);
    for (const timer of this.#wakeups) clearTimeout(timer);
    this.#wakeups.clear();
    this.#unsubscribe?.();
    while (this.#active.size > 0) await Promise.allSettled([...this.#active]);
  }

  #pump(): void {
    while (!this.#stopping && this.#active.size < this.#concurrency) {
      let claimed: ClaimedJob | undefined;
      try {
        claimed = this.#queue.claim(this.#options.group === undefined ? {} : { group: this.#options.group });
      } catch (error) {
        this.#options.logger.error('the deploy queue could not be read', { error });
        return;
      }
      if (claimed === undefined) return;
      const task: Promise<void> = this.#execute(claimed).finally(() => {
        this.#active.delete(task);
        this.#pump();
      });
      this.#active.add(task);
    }
  }

  async #execute(claimed: ClaimedJob): Promise<void> {
    let outcome: JobOutcome<T> | undefined;
    try {
      const result = await this.#run(claimed);
      this.#queue.complete(claimed.id);
      outcome = { kind: 'done', result };
    } catch (error) {
      outcome = this.#failed(claimed, errorMessage(error), this.#options.postpones?.(error) === true);
    }
    // Undefined when the queue could not be updated: the job stays claimed by this process, and a restart or
    // another process takes it again.
    if (outcome !== undefined) this.#options.onSettled?.(claimed, outcome);
  }

  /** Postpones a job that could not start, retries one that failed, or dead-letters it after its last run. */
  #failed(claimed: ClaimedJob, message: string, postponed: boolean): JobOutcome<T> | undefined {
    const { logger } = this.#options;
    const context = { job: claimed.id, group: claimed.group, attempt: claimed.attempt, error: message };
    try {
      if (postponed) {
        const delayMs = this.#options.postponeDelayMs ?? 5000;
        this.#queue.release(claimed.id, { error: message, delayMs, countAttempt: false });
        this.#wakeUpAfter(delayMs);
        logger.warn('job postponed', { ...context, retryInMs: delayMs });
        return { kind: 'retry', error: message, delayMs };
      }
      if (claimed.attempt >= this.#maxAttempts) {
        this.#queue.deadLetter(claimed.id, message);
        logger.error('job failed for good; moved to the dead letters', context);
        return { kind: 'dead', error: message };
      }
      const delayMs = (this.#options.retryDelayMs ?? defaultRetryDelay)(claimed.attempt);
      this.#queue.release(claimed.id, { error: message, delayMs, countAttempt: true });
      this.#wakeUpAfter(delayMs);
      logger.warn('job failed; it will be retried', {
        ...context,
        maxAttempts: this.#maxAttempts,
        retryInMs: delayMs,
      });
      return { kind: 'retry', error: message, delayMs };
    } catch (queueError) {
      logger.error('the deploy queue could not be updated', { ...context, queueError });
      return undefined;
    }
  }

  #wakeUpAfter(delayMs: number): void {
    const timer = setTimeout(() => {
      this.#wakeups.delete(timer);
      this.#pump();
    }, delayMs + 5);
    this.#wakeups.add(timer);
  }
}
