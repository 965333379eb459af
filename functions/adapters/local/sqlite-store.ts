import type { DatabaseSync } from 'node:sqlite';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { InventoryEntry } from '../../core/apply/inventory.ts';
import type { KubeObject } from '../../core/objects.ts';
import {
  type AppliedCommit,
  type AppliedRevisionState,
  type CheckRecord,
  type CheckStore,
  type DeliveryLog,
  type DeploymentRecord,
  type EnvironmentKey,
  type EnvironmentState,
  type EnvironmentStore,
  type FinishedDeployment,
  syncAfter,
} from '../../core/ports.ts';
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
}

/** What the status page shows of one environment part. */
export interface EnvironmentSummary {
  readonly key: EnvironmentKey;
  readonly state: EnvironmentState | undefined;
  readonly lastCheck: CheckRecord | undefined;
  readonly lock: { readonly owner: string; readonly expiresAt: string } | undefined;
}

const KEY = 'app = ? AND environment = ? AND part = ?';
const keyValues = ({ app, environment, part }: EnvironmentKey) => [app, environment, part] as const;
const describeKey = ({ app, environment, part }: EnvironmentKey) => `${app}/${environment}/${part}`;

/**
 * The environment store, the checks' store and the webhook delivery log of the local mode, in SQLite. It keeps
 * the DynamoDB adapters' semantics: a lock has an owner and an expiry (and, locally, a process: the lock of a
 * process that died is free); a deployment updates the sync status, last applied commit, inventory and desired
 * objects only while it holds the lock, and otherwise fails whole; `appendHistory` records without the lock
 * and leaves the state alone; delivery records expire; a check updates the latest check and, when given, the sync status.
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

  #row(key: EnvironmentKey): EnvironmentRow | undefined {
    return this.#db.prepare(`SELECT * FROM environments WHERE ${KEY}`).get(...keyValues(key)) as
      | EnvironmentRow
      | undefined;
  }

  async get(key: EnvironmentKey): Promise<EnvironmentState | undefined> {
    const row = this.#row(key);
    return row === undefined ? undefined : stateOf(row);
  }

  async lock(key: EnvironmentKey, owner: string, ttlSeconds: number): Promise<boolean> {
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

  async unlock(key: EnvironmentKey, owner: string): Promise<void> {
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

  async recordDeployment(record: FinishedDeployment, applied?: AppliedRevisionState): Promise<void> {
    const key = record.key;
    const sync = syncAfter(record);
    transaction(this.#db, () => {
      this.#insertHistory(record);
      const { changes } = this.#db
        .prepare(
          `UPDATE environments SET sync = ?, last_applied = COALESCE(?, last_applied)
             WHERE ${KEY} AND lock_owner = ?`,
        )
        .run(
          JSON.stringify(sync),
          applied === undefined ? null : JSON.stringify(applied.commit),
          ...keyValues(key),
          record.id,
        );
      if (changes === 0) {
        throw new Error(
          `deployment ${record.id} lost the lock of ${describeKey(key)} before it was recorded`,
        );
      }
      if (applied !== undefined) {
        this.#db
          .prepare(
            `INSERT INTO environments (app, environment, part, inventory, inventory_deployment_id, desired)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (app, environment, part) DO UPDATE SET inventory = excluded.inventory,
               inventory_deployment_id = excluded.inventory_deployment_id, desired = excluded.desired`,
          )
          .run(
            ...keyValues(key),
            JSON.stringify(applied.inventory),
            record.id,
            gzipSync(JSON.stringify(applied.desired)),
          );
      }
    });
  }

  async listDeployments(key: EnvironmentKey, limit: number): Promise<DeploymentRecord[]> {
    const rows = this.#db
      .prepare(`SELECT record FROM deployments WHERE ${KEY} ORDER BY started_at DESC, id DESC LIMIT ?`)
      .all(...keyValues(key), limit) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as DeploymentRecord);
  }

  async getDesired(key: EnvironmentKey): Promise<KubeObject[] | undefined> {
    const row = this.#db.prepare(`SELECT desired FROM environments WHERE ${KEY}`).get(...keyValues(key)) as
      | { desired: Uint8Array | null }
      | undefined;
    if (row?.desired == null) return undefined;
    return JSON.parse(gunzipSync(row.desired).toString('utf8')) as KubeObject[];
  }

  async recordCheck(key: EnvironmentKey, check: CheckRecord, sync?: EnvironmentState['sync']): Promise<void> {
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
          `INSERT INTO environments (app, environment, part, last_check, sync) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (app, environment, part) DO UPDATE SET last_check = excluded.last_check,
             sync = COALESCE(excluded.sync, environments.sync)`,
        )
        .run(...keyValues(key), JSON.stringify(check), sync === undefined ? null : JSON.stringify(sync));
    });
  }

  async refreshInventory(
    key: EnvironmentKey,
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
  listEnvironments(): EnvironmentKey[] {
    const rows = this.#db
      .prepare(
        `SELECT app, environment, part FROM environments
         UNION SELECT app, environment, part FROM deployments
         ORDER BY app, environment, part`,
      )
      .all() as { app: string; environment: string; part: EnvironmentKey['part'] }[];
    return rows.map(({ app, environment, part }) => ({ app, environment, part }));
  }

  /** The state, latest check and lock of one environment part. */
  summary(key: EnvironmentKey): EnvironmentSummary {
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

  /** The recent checks of an environment part, newest first. */
  listChecks(key: EnvironmentKey, limit: number): CheckRecord[] {
    const rows = this.#db
      .prepare(`SELECT record FROM checks WHERE ${KEY} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(...keyValues(key), limit) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as CheckRecord);
  }
}

function stateOf(row: EnvironmentRow): EnvironmentState {
  return {
    ...(row.last_applied === null ? {} : { lastApplied: JSON.parse(row.last_applied) as AppliedCommit }),
    sync:
      row.sync === null
        ? { status: 'Unknown', message: '', at: '' }
        : (JSON.parse(row.sync) as EnvironmentState['sync']),
    inventory: row.inventory === null ? [] : (JSON.parse(row.inventory) as InventoryEntry[]),
  };
}
