import type { DatabaseSync } from 'node:sqlite';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { InventoryEntry } from '../../core/model/inventory.ts';
import { type PartKey, partId } from '../../core/model/part.ts';
import {
  type CheckChange,
  type CheckRecord,
  type DeploymentRecord,
  type EnvironmentState,
  recentJobsAfter,
  type StateChange,
  type Suspension,
  UNKNOWN_SYNC,
} from '../../core/model/records.ts';
import type { KubeObject } from '../../core/objects.ts';
import type { CheckStore, DeliveryLog, EnvironmentStore } from '../../core/ports.ts';
import { type Clock, processAlive, systemClock, transaction } from './database.ts';

/** Check history is kept for a week, as in the DynamoDB table. */
const CHECK_RETENTION_SECONDS = 7 * 24 * 3600;

interface EnvironmentRow {
  app: string;
  environment: string;
  part: string;
  last_applied: string | null;
  sync: string | null;
  last_check: string | null;
  lock_owner: string | null;
  lock_expires_at: number | null;
  lock_pid: number | null;
  inventory: string | null;
  inventory_deployment_id: string | null;
  pin: string | null;
  queued: string | null;
  recent_jobs: string | null;
  suspended: string | null;
}

/** What the status page shows of one environment part. */
export interface EnvironmentSummary {
  readonly key: PartKey;
  readonly state: EnvironmentState | undefined;
  readonly lastCheck: CheckRecord | undefined;
  readonly lock: { readonly owner: string; readonly expiresAt: string } | undefined;
}

const KEY = 'app = ? AND environment = ? AND part = ?';
const keyValues = ({ app, environment, part }: PartKey) => [app, environment, part] as const;
const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * The environment store, the checks' store and the webhook delivery log of the local mode, in SQLite. It keeps
 * the DynamoDB adapters' semantics, which the port contract tests hold both to: a lock has an owner and an
 * expiry (and, locally, a process: the lock of a process that died is free); a deployment changes the state
 * only while it holds the lock, and otherwise fails whole; `appendHistory` records without the lock and leaves
 * the state alone; delivery records expire; a check updates the latest check and what its change names.
 */
export class SqliteStore implements EnvironmentStore, CheckStore, DeliveryLog {
  readonly #db: DatabaseSync;
  readonly #now: Clock;

  constructor(db: DatabaseSync, options: { readonly clock?: Clock } = {}) {
    this.#db = db;
    this.#now = options.clock ?? systemClock;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #row(key: PartKey): EnvironmentRow | undefined {
    return this.#db.prepare(`SELECT * FROM environments WHERE ${KEY}`).get(...keyValues(key)) as
      | EnvironmentRow
      | undefined;
  }

  async get(key: PartKey): Promise<EnvironmentState | undefined> {
    const row = this.#row(key);
    return row === undefined ? undefined : stateOf(row);
  }

  async lock(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#seconds();
    return transaction(this.#db, () => {
      const row = this.#row(key);
      const free =
        row === undefined ||
        row.lock_owner === null ||
        (row.lock_expires_at ?? 0) < now ||
        row.lock_owner === owner ||
        (row.lock_pid !== null && !processAlive(row.lock_pid));
      if (!free) return false;
      this.#db
        .prepare(
          `INSERT INTO environments (app, environment, part, lock_owner, lock_expires_at, lock_pid)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (app, environment, part) DO UPDATE SET
             lock_owner = excluded.lock_owner, lock_expires_at = excluded.lock_expires_at,
             lock_pid = excluded.lock_pid`,
        )
        .run(...keyValues(key), owner, now + ttlSeconds, process.pid);
      return true;
    });
  }

  async renew(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare(`UPDATE environments SET lock_expires_at = ? WHERE ${KEY} AND lock_owner = ?`)
      .run(this.#seconds() + ttlSeconds, ...keyValues(key), owner);
    return changes > 0;
  }

  async unlock(key: PartKey, owner: string): Promise<void> {
    this.#db
      .prepare(
        `UPDATE environments SET lock_owner = NULL, lock_expires_at = NULL, lock_pid = NULL
         WHERE ${KEY} AND lock_owner = ?`,
      )
      .run(...keyValues(key), owner);
  }

  async appendHistory(record: DeploymentRecord): Promise<void> {
    this.#insertHistory(record);
  }

  #insertHistory(record: DeploymentRecord): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO deployments (id, app, environment, part, started_at, record)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(record.id, ...keyValues(record.key), record.startedAt, JSON.stringify(record));
  }

  async recordDeployment(record: DeploymentRecord, change: StateChange): Promise<void> {
    const key = record.key;
    transaction(this.#db, () => {
      const row = this.#row(key);
      if (row?.lock_owner !== record.id) {
        throw new Error(`deployment ${record.id} lost the lock of ${partId(key)} before it was recorded`);
      }
      this.#insertHistory(record);
      const recent = recentJobsAfter(row.recent_jobs === null ? [] : JSON.parse(row.recent_jobs), record);
      this.#db
        .prepare(
          `UPDATE environments SET sync = COALESCE(?, sync), last_applied = COALESCE(?, last_applied),
             pin = CASE WHEN ? THEN ? ELSE pin END, queued = NULL, recent_jobs = ? WHERE ${KEY}`,
        )
        .run(
          json(change.sync),
          json(change.applied?.commit),
          change.pin === undefined ? 0 : 1,
          json(change.pin),
          JSON.stringify(recent),
          ...keyValues(key),
        );
      if (change.applied !== undefined) {
        this.#db
          .prepare(
            `UPDATE environments SET inventory = ?, inventory_deployment_id = ?, desired = ? WHERE ${KEY}`,
          )
          .run(
            JSON.stringify(change.applied.inventory),
            record.id,
            gzipSync(JSON.stringify(change.applied.desired)),
            ...keyValues(key),
          );
      }
    });
  }

  async listDeployments(key: PartKey, limit: number): Promise<DeploymentRecord[]> {
    const rows = this.#db
      .prepare(`SELECT record FROM deployments WHERE ${KEY} ORDER BY started_at DESC, id DESC LIMIT ?`)
      .all(...keyValues(key), limit) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as DeploymentRecord);
  }

  async getDesired(key: PartKey): Promise<KubeObject[] | undefined> {
    const row = this.#db.prepare(`SELECT desired FROM environments WHERE ${KEY}`).get(...keyValues(key)) as
      | { desired: Uint8Array | null }
      | undefined;
    if (row?.desired == null) return undefined;
    return JSON.parse(gunzipSync(row.desired).toString('utf8')) as KubeObject[];
  }

  async recordCheck(key: PartKey, check: CheckRecord, change: CheckChange): Promise<void> {
    const now = this.#seconds();
    transaction(this.#db, () => {
      this.#db.prepare('DELETE FROM checks WHERE expires_at < ?').run(now);
      this.#db
        .prepare(
          `INSERT OR REPLACE INTO checks (id, app, environment, part, at, record, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(check.id, ...keyValues(key), check.at, JSON.stringify(check), now + CHECK_RETENTION_SECONDS);
      this.#db
        .prepare(
          `INSERT INTO environments (app, environment, part, last_check, sync, queued) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (app, environment, part) DO UPDATE SET last_check = excluded.last_check,
             sync = COALESCE(excluded.sync, environments.sync),
             queued = CASE WHEN ? THEN excluded.queued ELSE environments.queued END`,
        )
        .run(
          ...keyValues(key),
          JSON.stringify(check),
          json(change.sync),
          json(change.queued),
          change.queued === undefined ? 0 : 1,
        );
    });
  }

  async refreshInventory(
    key: PartKey,
    deploymentId: string,
    inventory: readonly InventoryEntry[],
  ): Promise<void> {
    // A deployment that replaced the inventory meanwhile has newer resourceVersions: then nothing changes.
    this.#db
      .prepare(`UPDATE environments SET inventory = ? WHERE ${KEY} AND inventory_deployment_id = ?`)
      .run(JSON.stringify(inventory), ...keyValues(key), deploymentId);
  }

  async seen(deliveryKey: string): Promise<boolean> {
    const row = this.#db
      .prepare('SELECT expires_at FROM deliveries WHERE delivery_key = ?')
      .get(deliveryKey) as { expires_at: number } | undefined;
    // As in `remember`: an expired record counts as absent.
    return row !== undefined && row.expires_at >= this.#seconds();
  }

  async remember(deliveryKey: string, retainForSeconds: number): Promise<boolean> {
    const now = this.#seconds();
    return transaction(this.#db, () => {
      this.#db
        .prepare('DELETE FROM deliveries WHERE expires_at < ? AND delivery_key <> ?')
        .run(now, deliveryKey);
      const { changes } = this.#db
        .prepare(
          `INSERT INTO deliveries (delivery_key, received_at, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (delivery_key) DO UPDATE SET received_at = excluded.received_at,
             expires_at = excluded.expires_at
           WHERE deliveries.expires_at < ?`,
        )
        .run(deliveryKey, now, now + retainForSeconds, now);
      return changes > 0;
    });
  }

  /** Every environment part the store knows, ordered by app, environment and part. */
  listEnvironments(): PartKey[] {
    const rows = this.#db
      .prepare(
        `SELECT app, environment, part FROM environments
         UNION SELECT app, environment, part FROM deployments
         ORDER BY app, environment, part`,
      )
      .all() as { app: string; environment: string; part: PartKey['part'] }[];
    return rows.map(({ app, environment, part }) => ({ app, environment, part }));
  }

  /** The state, latest check and lock of one environment part. */
  summary(key: PartKey): EnvironmentSummary {
    const row = this.#row(key);
    const lockActive =
      row?.lock_owner != null &&
      (row.lock_expires_at ?? 0) >= this.#seconds() &&
      (row.lock_pid === null || processAlive(row.lock_pid));
    return {
      key,
      state: row === undefined ? undefined : stateOf(row),
      lastCheck: row?.last_check == null ? undefined : (JSON.parse(row.last_check) as CheckRecord),
      lock:
        lockActive && row?.lock_owner != null
          ? {
              owner: row.lock_owner,
              expiresAt: new Date((row.lock_expires_at ?? 0) * 1000).toISOString(),
            }
          : undefined,
    };
  }

  /** Suspends the part (creating its state when needed), or with null resumes it. */
  setSuspended(key: PartKey, suspension: Suspension | null): void {
    this.#db
      .prepare(
        `INSERT INTO environments (app, environment, part, suspended) VALUES (?, ?, ?, ?)
         ON CONFLICT (app, environment, part) DO UPDATE SET suspended = excluded.suspended`,
      )
      .run(...keyValues(key), json(suspension));
  }

  /** The recent checks of an environment part, newest first. */
  listChecks(key: PartKey, limit: number): CheckRecord[] {
    const rows = this.#db
      .prepare(`SELECT record FROM checks WHERE ${KEY} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(...keyValues(key), limit) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as CheckRecord);
  }
}

function stateOf(row: EnvironmentRow): EnvironmentState {
  return {
    ...(row.last_applied === null ? {} : { lastApplied: JSON.parse(row.last_applied) }),
    ...(row.pin === null ? {} : { pin: JSON.parse(row.pin) }),
    ...(row.queued === null ? {} : { queued: JSON.parse(row.queued) }),
    ...(row.suspended === null ? {} : { suspended: JSON.parse(row.suspended) }),
    sync: row.sync === null ? UNKNOWN_SYNC : JSON.parse(row.sync),
    inventory: row.inventory === null ? [] : (JSON.parse(row.inventory) as InventoryEntry[]),
    recentJobs: row.recent_jobs === null ? [] : JSON.parse(row.recent_jobs),
  };
}
