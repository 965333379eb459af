// The local mode's state: one SQLite database (Node's built-in `node:sqlite`) in the state directory, shared by
// the environment store, the delivery log and the deploy queue, so that one file holds everything a restart
// needs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The current time in milliseconds since the epoch; tests pass their own to cross windows without waiting. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

const DATABASE_FILE = 'ferry.db';

/** Schema version in `PRAGMA user_version`; a newer database than this code knows is refused. */
const SCHEMA_VERSION = 3;

/** What turns a database of each older version into the next one. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `ALTER TABLE environments ADD COLUMN pin TEXT;
      ALTER TABLE environments ADD COLUMN queued TEXT;
      ALTER TABLE environments ADD COLUMN recent_jobs TEXT;`,
  2: 'ALTER TABLE environments ADD COLUMN suspended TEXT;',
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS environments (
  app TEXT NOT NULL,
  environment TEXT NOT NULL,
  part TEXT NOT NULL,
  last_applied TEXT,
  sync TEXT,
  last_check TEXT,
  lock_owner TEXT,
  lock_expires_at INTEGER,
  lock_pid INTEGER,
  inventory TEXT,
  inventory_deployment_id TEXT,
  desired BLOB,
  pin TEXT,
  queued TEXT,
  recent_jobs TEXT,
  suspended TEXT,
  PRIMARY KEY (app, environment, part)
);
CREATE TABLE IF NOT EXISTS deployments (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  environment TEXT NOT NULL,
  part TEXT NOT NULL,
  started_at TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_by_key ON deployments (app, environment, part, started_at);
CREATE TABLE IF NOT EXISTS checks (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  environment TEXT NOT NULL,
  part TEXT NOT NULL,
  at TEXT NOT NULL,
  record TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_by_expiry ON checks (expires_at);
CREATE TABLE IF NOT EXISTS deliveries (
  delivery_key TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_group TEXT NOT NULL,
  deduplication_id TEXT NOT NULL,
  body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  available_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  running INTEGER NOT NULL DEFAULT 0,
  claimed_pid INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_group ON jobs (job_group, id);
CREATE TABLE IF NOT EXISTS job_deduplication (
  deduplication_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY,
  job_group TEXT NOT NULL,
  deduplication_id TEXT NOT NULL,
  body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);
`;

/** The state directory's database file. */
export function databasePath(stateDir: string): string {
  return join(stateDir, DATABASE_FILE);
}

/**
 * Opens (creating when needed) the state directory and its database. WAL journaling lets a CLI command read
 * while the server writes, and the busy timeout makes concurrent writers of two processes wait, not fail.
 */
export function openDatabase(stateDir: string): DatabaseSync {
  mkdirSync(stateDir, { recursive: true });
  const db = new DatabaseSync(databasePath(stateDir), { timeout: 10_000 });
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${databasePath(stateDir)} was written by a newer Ferry (schema ${version}, this one knows ${SCHEMA_VERSION})`,
      );
    }
    // A current database is left unwritten, so that a command that only reads (`ferry status`) writes nothing.
    if (version < SCHEMA_VERSION) {
      for (let from = version; from > 0 && from < SCHEMA_VERSION; from++) db.exec(MIGRATIONS[from] ?? '');
      db.exec(SCHEMA);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Runs `work` in one write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so that a read
 * followed by a write (a lock, a claim) is atomic across processes too.
 */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Whether a process of this machine is alive (a process of another user counts as alive). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
