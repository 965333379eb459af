import type { DatabaseSync } from 'node:sqlite';
import { type DeployJob, jobGroup, parseDeployJob } from '../../core/model/job.ts';
import type { JobQueue } from '../../core/ports.ts';
import { type Clock, processAlive, systemClock, transaction } from './database.ts';

/** Equal deduplication ids within this window are enqueued once: SQS FIFO's five minutes. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

/** A job taken from the queue: it runs until it is completed, released for a retry or dead-lettered. */
export interface ClaimedJob {
  readonly id: number;
  readonly group: string;
  readonly job: DeployJob;
  /** 1 for the first run. */
  readonly attempt: number;
}

export interface PendingJob {
  readonly id: number;
  readonly group: string;
  readonly job: DeployJob;
  readonly attempts: number;
  readonly running: boolean;
  readonly availableAt: string;
  readonly lastError?: string;
}

export interface DeadLetter {
  readonly id: number;
  readonly group: string;
  readonly job: DeployJob | undefined;
  readonly attempts: number;
  readonly lastError: string;
  readonly failedAt: string;
}

interface JobRow {
  id: number;
  job_group: string;
  deduplication_id: string;
  body: string;
  enqueued_at: number;
  available_at: number;
  attempts: number;
  running: number;
  claimed_pid: number | null;
  last_error: string | null;
}

/**
 * The deploy queue of the local mode, in the state database so that a restart loses no job: FIFO per group
 * (`jobGroup`: a part, or a pull request's plans), deduplicated by job id over a window like SQS FIFO. Only a
 * group's oldest job can be claimed, and only while no job of the group runs; a job that waits for a retry holds
 * its group back, as an in-flight SQS FIFO message does. A job whose claiming process died is claimable again.
 */
export class SqliteJobQueue implements JobQueue {
  readonly #db: DatabaseSync;
  readonly #now: Clock;
  readonly #window: number;
  readonly #listeners = new Set<() => void>();

  constructor(
    db: DatabaseSync,
    options: { readonly clock?: Clock; readonly deduplicationWindowMs?: number } = {},
  ) {
    this.#db = db;
    this.#now = options.clock ?? systemClock;
    this.#window = options.deduplicationWindowMs ?? DEDUPLICATION_WINDOW_MS;
  }

  async enqueue(jobs: readonly DeployJob[]): Promise<void> {
    this.add(jobs);
  }

  /** Enqueues the jobs in order; returns each one's id, or undefined for a duplicate within the window. */
  add(jobs: readonly DeployJob[]): (number | undefined)[] {
    const now = this.#now();
    const ids = transaction(this.#db, () => {
      this.#db.prepare('DELETE FROM job_deduplication WHERE expires_at <= ?').run(now);
      return jobs.map((job) => {
        const { changes } = this.#db
          .prepare('INSERT OR IGNORE INTO job_deduplication (deduplication_id, expires_at) VALUES (?, ?)')
          .run(job.id, now + this.#window);
        if (changes === 0) return undefined;
        const { lastInsertRowid } = this.#db
          .prepare(
            `INSERT INTO jobs (job_group, deduplication_id, body, enqueued_at, available_at)
             VALUES (?, ?, ?, ?, ?)`,
          )
          .run(jobGroup(job), job.id, JSON.stringify(job), now, now);
        return Number(lastInsertRowid);
      });
    });
    if (ids.some((id) => id !== undefined)) for (const listener of this.#listeners) listener();
    return ids;
  }

  /** Calls `listener` after jobs were added by this process. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes the oldest runnable job of any group (or of `group`), or undefined when none can run now. */
  claim(options: { readonly group?: string } = {}): ClaimedJob | undefined {
    const now = this.#now();
    return transaction(this.#db, () => {
      const heads = this.#db
        .prepare(
          `SELECT * FROM jobs j WHERE id = (SELECT MIN(id) FROM jobs k WHERE k.job_group = j.job_group)
           ORDER BY id`,
        )
        .all() as unknown as JobRow[];
      for (const head of heads) {
        if (options.group !== undefined && head.job_group !== options.group) continue;
        if (head.running === 1) {
          if (head.claimed_pid === null || processAlive(head.claimed_pid)) continue;
          // Its process died while running it: the job runs again, as an SQS message comes back.
          this.#db.prepare('UPDATE jobs SET running = 0, claimed_pid = NULL WHERE id = ?').run(head.id);
        }
        if (head.available_at > now) continue;
        const job = parseDeployJob(head.body);
        if (job === undefined) {
          this.#moveToDeadLetters(head, 'the message is not a deploy job', now);
          continue;
        }
        this.#db
          .prepare('UPDATE jobs SET running = 1, attempts = attempts + 1, claimed_pid = ? WHERE id = ?')
          .run(process.pid, head.id);
        return { id: head.id, group: head.job_group, job, attempt: head.attempts + 1 };
      }
      return undefined;
    });
  }

  /** Removes a finished job. */
  complete(id: number): void {
    this.#db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }

  /**
   * Puts a claimed job back, runnable after `delayMs`, its group held until then. With `countAttempt` false the
   * run does not count towards the dead-letter limit (the job could not start, e.g. its environment was busy).
   */
  release(
    id: number,
    options: { readonly error: string; readonly delayMs: number; readonly countAttempt: boolean },
  ) {
    this.#db
      .prepare(
        `UPDATE jobs SET running = 0, claimed_pid = NULL, available_at = ?, last_error = ?,
           attempts = attempts - ? WHERE id = ?`,
      )
      .run(this.#now() + options.delayMs, options.error, options.countAttempt ? 0 : 1, id);
  }

  /** Moves a job to the dead-letter table with its last error, releasing its group. */
  deadLetter(id: number, error: string): void {
    const now = this.#now();
    transaction(this.#db, () => {
      const row = this.#db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
      if (row !== undefined) this.#moveToDeadLetters(row, error, now);
    });
  }

  #moveToDeadLetters(row: JobRow, error: string, now: number): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO dead_letters
           (id, job_group, deduplication_id, body, enqueued_at, attempts, last_error, failed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(row.id, row.job_group, row.deduplication_id, row.body, row.enqueued_at, row.attempts, error, now);
    this.#db.prepare('DELETE FROM jobs WHERE id = ?').run(row.id);
  }

  /**
   * Puts dead letters back on the queue, behind the jobs of their group, runnable now with their attempts
   * counted afresh; returns the new job ids by the dead letters' ids. A redrive is deliberate: no deduplication.
   */
  redrive(ids: readonly number[]): Map<number, number> {
    const now = this.#now();
    const moved = transaction(this.#db, () => {
      const back = new Map<number, number>();
      for (const id of ids) {
        const row = this.#db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as JobRow | undefined;
        if (row === undefined) continue;
        const { lastInsertRowid } = this.#db
          .prepare(
            `INSERT INTO jobs (job_group, deduplication_id, body, enqueued_at, available_at)
             VALUES (?, ?, ?, ?, ?)`,
          )
          .run(row.job_group, row.deduplication_id, row.body, row.enqueued_at, now);
        this.#db.prepare('DELETE FROM dead_letters WHERE id = ?').run(id);
        back.set(id, Number(lastInsertRowid));
      }
      return back;
    });
    if (moved.size > 0) for (const listener of this.#listeners) listener();
    return moved;
  }

  /** Whether a job is still queued or running. */
  has(id: number): boolean {
    return this.#db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(id) !== undefined;
  }

  /** The queued and running jobs, oldest first. */
  pending(): PendingJob[] {
    const rows = this.#db.prepare('SELECT * FROM jobs ORDER BY id').all() as unknown as JobRow[];
    return rows.flatMap((row) => {
      const job = parseDeployJob(row.body);
      if (job === undefined) return [];
      return [
        {
          id: row.id,
          group: row.job_group,
          job,
          attempts: row.attempts,
          running: row.running === 1,
          availableAt: new Date(row.available_at).toISOString(),
          ...(row.last_error === null ? {} : { lastError: row.last_error }),
        },
      ];
    });
  }

  /** The dead-lettered jobs, oldest first. */
  deadLetters(): DeadLetter[] {
    const rows = this.#db.prepare('SELECT * FROM dead_letters ORDER BY id').all() as unknown as (JobRow & {
      failed_at: number;
      last_error: string;
    })[];
    return rows.map((row) => ({
      id: row.id,
      group: row.job_group,
      job: parseDeployJob(row.body),
      attempts: row.attempts,
      lastError: row.last_error,
      failedAt: new Date(row.failed_at).toISOString(),
    }));
  }
}
