// The operations port over a state directory: what `GET /status`, the status page and the CLI read of the
// local mode (every part, its history and checks, the deploy queue and its dead letters), and what the CLI does
// to it (enqueue, redrive, suspend). The report itself is the core's (`core/operate/status.ts`).
import type { Config } from '../../core/config.ts';
import type { DeployJob } from '../../core/model/job.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { CheckRecord, DeploymentRecord, Suspension } from '../../core/model/records.ts';
import type {
  DeadLetterStatus,
  PartSnapshot,
  PartStatus,
  QueueSnapshot,
  StatusReport,
} from '../../core/model/status.ts';
import { collectStatus as collect } from '../../core/operate/status.ts';
import type { Operations } from '../../core/ports.ts';
import { openDatabase } from './database.ts';
import { SqliteJobQueue } from './sqlite-job-queue.ts';
import { SqliteStore } from './sqlite-store.ts';

export type {
  DeadLetterStatus,
  DeploymentSummary,
  PartStatus,
  QueueStatus,
  StatusReport,
} from '../../core/model/status.ts';
/** The name this report had before it moved to the core's model. */
export type EnvironmentStatus = PartStatus;

/** The local mode's operations: the SQLite store and queue of one state directory. */
export class LocalOperations implements Operations {
  readonly #store: SqliteStore;
  readonly #queue: SqliteJobQueue;

  constructor(store: SqliteStore, queue: SqliteJobQueue) {
    this.#store = store;
    this.#queue = queue;
  }

  async parts(): Promise<PartKey[]> {
    return this.#store.listEnvironments();
  }

  async part(key: PartKey): Promise<PartSnapshot> {
    const { state, lastCheck, lock } = this.#store.summary(key);
    return { state, lastCheck, lock };
  }

  history(key: PartKey, limit: number): Promise<DeploymentRecord[]> {
    return this.#store.listDeployments(key, limit);
  }

  async checks(key: PartKey, limit: number): Promise<CheckRecord[]> {
    return this.#store.listChecks(key, limit);
  }

  async queue(): Promise<QueueSnapshot> {
    const pending = this.#queue.pending();
    return {
      queued: pending.filter((p) => !p.running).length,
      running: pending.filter((p) => p.running).length,
      listsJobs: true,
      jobs: pending.map((p) => ({
        id: String(p.id),
        group: p.group,
        commit: p.job.commit,
        ref: p.job.ref,
        trigger: p.job.trigger.kind,
        running: p.running,
        attempts: p.attempts,
        availableAt: p.availableAt,
        ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      })),
    };
  }

  async deadLetters(): Promise<DeadLetterStatus[]> {
    return this.#queue.deadLetters().map((d) => ({
      id: String(d.id),
      group: d.group,
      commit: d.job?.commit,
      ref: d.job?.ref,
      trigger: d.job?.trigger.kind,
      attempts: d.attempts,
      lastError: d.lastError,
      failedAt: d.failedAt,
    }));
  }

  async enqueue(jobs: readonly DeployJob[]): Promise<void> {
    this.#queue.add(jobs);
  }

  async redrive(ids: readonly string[]): Promise<string[]> {
    const moved = this.#queue.redrive(ids.map(Number).filter(Number.isInteger));
    return [...moved.keys()].map(String);
  }

  async suspend(key: PartKey, suspension: Suspension | null): Promise<void> {
    this.#store.setSuspended(key, suspension);
  }
}

/**
 * The status of every environment part: those of `config` (when given) and those the store knows. Without a
 * configuration, `configured` is undefined.
 */
export function collectStatus(
  store: SqliteStore,
  queue: SqliteJobQueue,
  config?: Config,
  deploymentsPerPart = 5,
): Promise<StatusReport> {
  return collect(new LocalOperations(store, queue), config, { deploymentsPerPart });
}

/** The status of a state directory, read whether or not a server runs on it. */
export async function readStatus(stateDir: string, config?: Config): Promise<StatusReport> {
  const db = openDatabase(stateDir);
  try {
    return await collectStatus(new SqliteStore(db), new SqliteJobQueue(db), config);
  } finally {
    db.close();
  }
}
