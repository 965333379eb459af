// What `GET /status` and `ferry status` show: every environment part with its last applied commit, sync
// status, last check and last deployments, and the deploy queue with its dead letters.
import type { Config } from '../../core/config.ts';
import { short as shortCommit } from '../../core/model/commit.ts';
import type { JobTrigger } from '../../core/model/job.ts';
import { configuredParts, type PartKey, type PartName, partId } from '../../core/model/part.ts';
import type {
  AppliedCommit,
  CheckRecord,
  DeploymentRecord,
  EnvironmentState,
  Pin,
} from '../../core/model/records.ts';
import { openDatabase } from './database.ts';
import { SqliteJobQueue } from './sqlite-job-queue.ts';
import { SqliteStore } from './sqlite-store.ts';

/** A deployment of the history, its objects counted rather than listed. */
export type DeploymentSummary = Omit<DeploymentRecord, 'key' | 'objects'> & { readonly objects: number };

export interface EnvironmentStatus {
  readonly app: string;
  readonly environment: string;
  readonly part: PartName;
  /** `app/environment/part`. */
  readonly id: string;
  /** False for a part the store knows but the configuration no longer has. */
  readonly configured: boolean | undefined;
  readonly lastApplied: AppliedCommit | null;
  readonly sync: EnvironmentState['sync'];
  /** Set while a manual deploy holds the part at a commit; the last check's head says where its ref is. */
  readonly pin: Pin | null;
  readonly lastCheck: CheckRecord | null;
  readonly lock: { readonly owner: string; readonly expiresAt: string } | null;
  readonly objects: number;
  /** Newest first. */
  readonly deployments: readonly DeploymentSummary[];
}

export interface QueueStatus {
  readonly queued: number;
  readonly running: number;
  readonly jobs: readonly {
    readonly id: number;
    readonly group: string;
    readonly commit: string;
    readonly ref: string;
    readonly trigger: JobTrigger['kind'];
    readonly running: boolean;
    readonly attempts: number;
    readonly availableAt: string;
    readonly lastError?: string;
  }[];
  readonly deadLetters: readonly {
    readonly id: number;
    readonly group: string;
    readonly commit: string | undefined;
    readonly attempts: number;
    readonly lastError: string;
    readonly failedAt: string;
  }[];
}

export interface StatusReport {
  readonly generatedAt: string;
  readonly environments: readonly EnvironmentStatus[];
  readonly queue: QueueStatus;
}

/**
 * The status of every environment part: those of `config` (when given) and those the store knows. Without a
 * configuration, `configured` is undefined.
 */
export async function collectStatus(
  store: SqliteStore,
  queue: SqliteJobQueue,
  config?: Config,
  deploymentsPerPart = 5,
): Promise<StatusReport> {
  const configured = config === undefined ? undefined : new Set(configuredParts(config).map(partId));
  const keys = new Map<string, PartKey>();
  for (const key of [...(config === undefined ? [] : configuredParts(config)), ...store.listEnvironments()]) {
    keys.set(partId(key), key);
  }
  const sorted = [...keys.values()].sort(
    (a, b) =>
      a.app.localeCompare(b.app) ||
      a.environment.localeCompare(b.environment) ||
      a.part.localeCompare(b.part),
  );
  return {
    generatedAt: new Date().toISOString(),
    environments: await Promise.all(
      sorted.map((key) => partStatus(store, key, configured, deploymentsPerPart)),
    ),
    queue: queueStatus(queue),
  };
}

async function partStatus(
  store: SqliteStore,
  key: PartKey,
  configured: ReadonlySet<string> | undefined,
  deployments: number,
): Promise<EnvironmentStatus> {
  const { state, lastCheck, lock } = store.summary(key);
  const history = await store.listDeployments(key, deployments);
  return {
    app: key.app,
    environment: key.environment,
    part: key.part,
    id: partId(key),
    configured: configured?.has(partId(key)),
    lastApplied: state?.lastApplied ?? null,
    sync: state?.sync ?? { status: 'Unknown', message: 'never deployed', at: '' },
    pin: state?.pin ?? null,
    lastCheck: lastCheck ?? null,
    lock: lock ?? null,
    objects: state?.inventory.length ?? 0,
    deployments: history.map(({ key: _key, objects, ...deployment }) => ({
      ...deployment,
      objects: objects.length,
    })),
  };
}

function queueStatus(queue: SqliteJobQueue): QueueStatus {
  const pending = queue.pending();
  return {
    queued: pending.filter((p) => !p.running).length,
    running: pending.filter((p) => p.running).length,
    jobs: pending.map((p) => ({
      id: p.id,
      group: p.group,
      commit: p.job.commit,
      ref: p.job.ref,
      trigger: p.job.trigger.kind,
      running: p.running,
      attempts: p.attempts,
      availableAt: p.availableAt,
      ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
    })),
    deadLetters: queue.deadLetters().map((d) => ({
      id: d.id,
      group: d.group,
      commit: d.job?.commit,
      attempts: d.attempts,
      lastError: d.lastError,
      failedAt: d.failedAt,
    })),
  };
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

const short = (commit: string | undefined) => (commit === undefined ? '-' : shortCommit(commit));

const firstLine = (text: string) => {
  const [line = ''] = text.split('\n');
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
};

function describeTrigger(trigger: JobTrigger): string {
  if (trigger.kind === 'push') return `push (${trigger.provider})`;
  if (trigger.kind === 'reconcile') return `reconcile (${trigger.reason})`;
  return `manual (${trigger.requestedBy}${trigger.pin ? ', pin' : ''})`;
}

/** A part's lines: its sync status, pin, applied commit, last check and last deployments. */
function partLines(env: EnvironmentStatus): string[] {
  const flags = [env.configured === false ? 'not in the configuration' : '', env.lock ? 'deploying' : '']
    .filter((flag) => flag !== '')
    .join(', ');
  const lines = [
    `${env.id}${flags === '' ? '' : ` [${flags}]`}`,
    `  sync:        ${env.sync.status}${env.sync.message === '' ? '' : `: ${firstLine(env.sync.message)}`}`,
  ];
  if (env.pin !== null) {
    const head = env.lastCheck?.headCommit;
    lines.push(
      `  pinned:      at ${short(env.pin.commit)} (${env.pin.ref}) by ${env.pin.by} since ${env.pin.at}; head ${head === undefined ? 'not checked yet' : short(head)}`,
    );
  }
  lines.push(
    env.lastApplied === null
      ? '  applied:     nothing yet'
      : `  applied:     ${short(env.lastApplied.commit)} ${env.lastApplied.ref} at ${env.lastApplied.appliedAt} (${env.objects} objects)`,
  );
  if (env.lastCheck !== null) {
    lines.push(
      `  last check:  ${env.lastCheck.at} ${env.lastCheck.action}: ${firstLine(env.lastCheck.message)}`,
    );
  }
  for (const [index, d] of env.deployments.entries()) {
    lines.push(
      `  ${index === 0 ? 'deployments: ' : '             '}${d.startedAt} ${d.result} ${short(d.commit)} ${describeTrigger(d.trigger)}: ${firstLine(d.message)}`,
    );
  }
  return lines;
}

/** The queue's lines: its counts, its jobs and its dead letters. */
function queueLines(queue: QueueStatus): string[] {
  return [
    `Queue: ${queue.queued} queued, ${queue.running} running, ${queue.deadLetters.length} dead letters`,
    ...queue.jobs.map(
      (job) =>
        `  #${job.id} ${job.group} ${short(job.commit)} ${job.trigger} ${job.running ? 'running' : 'queued'}, ${job.attempts} attempt(s)${job.lastError === undefined ? '' : `, last error: ${firstLine(job.lastError)}`}`,
    ),
    ...queue.deadLetters.map(
      (dead) =>
        `  dead letter #${dead.id} ${dead.group} ${short(dead.commit)} after ${dead.attempts} attempt(s) at ${dead.failedAt}: ${firstLine(dead.lastError)}`,
    ),
  ];
}

/** The report as text for a terminal. */
export function formatStatus(report: StatusReport): string {
  const parts = report.environments.flatMap(partLines);
  return [
    ...(parts.length === 0 ? ['No environment deployed or configured yet.'] : parts),
    '',
    ...queueLines(report.queue),
  ].join('\n');
}
