// What `GET /status` and `ferry status` show: every environment part with its last applied commit, sync
// status, last check and last deployments, and the deploy queue with its dead letters.
import type { Config } from '../../core/config.ts';
import { type DeployJob, type JobTrigger, jobGroup } from '../../core/jobs.ts';
import type {
  AppliedCommit,
  CheckRecord,
  DeploymentRecord,
  EnvironmentKey,
  EnvironmentState,
} from '../../core/ports.ts';
import type { SqliteJobQueue } from './sqlite-job-queue.ts';
import type { SqliteStore } from './sqlite-store.ts';

/** A deployment of the history, its objects counted rather than listed. */
export type DeploymentSummary = Omit<DeploymentRecord, 'key' | 'objects'> & { readonly objects: number };

export interface EnvironmentStatus {
  readonly app: string;
  readonly environment: string;
  readonly part: EnvironmentKey['part'];
  readonly group: string;
  /** False for a part the store knows but the configuration no longer has. */
  readonly configured: boolean | undefined;
  readonly lastApplied: AppliedCommit | null;
  readonly sync: EnvironmentState['sync'];
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
    readonly trigger: DeployJob['trigger']['kind'];
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

const keyId = (key: EnvironmentKey) => `${key.app}\n${key.environment}\n${key.part}`;

/** The configured environment parts (app, and config when the environment has one). */
export function configuredParts(config: Config): EnvironmentKey[] {
  return config.apps.flatMap((app) =>
    app.environments.flatMap((environment) =>
      (environment.config === undefined ? (['app'] as const) : (['app', 'config'] as const)).map((part) => ({
        app: app.name,
        environment: environment.name,
        part,
      })),
    ),
  );
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
  const configured = new Set(config === undefined ? [] : configuredParts(config).map(keyId));
  const keys = new Map<string, EnvironmentKey>();
  for (const key of [...(config === undefined ? [] : configuredParts(config)), ...store.listEnvironments()]) {
    keys.set(keyId(key), key);
  }
  const sorted = [...keys.values()].sort(
    (a, b) =>
      a.app.localeCompare(b.app) ||
      a.environment.localeCompare(b.environment) ||
      a.part.localeCompare(b.part),
  );
  const environments = await Promise.all(
    sorted.map(async (key): Promise<EnvironmentStatus> => {
      const summary = store.summary(key);
      const deployments = await store.listDeployments(key, deploymentsPerPart);
      return {
        ...key,
        group: jobGroup(key),
        configured: config === undefined ? undefined : configured.has(keyId(key)),
        lastApplied: summary.state?.lastApplied ?? null,
        sync: summary.state?.sync ?? { status: 'Unknown', message: 'never deployed', at: '' },
        lastCheck: summary.lastCheck ?? null,
        lock: summary.lock ?? null,
        objects: summary.state?.inventory.length ?? 0,
        deployments: deployments.map((d) => ({
          id: d.id,
          commit: d.commit,
          ref: d.ref,
          trigger: d.trigger,
          startedAt: d.startedAt,
          finishedAt: d.finishedAt,
          result: d.result,
          message: d.message,
          objects: d.objects.length,
        })),
      };
    }),
  );
  const pending = queue.pending();
  return {
    generatedAt: new Date().toISOString(),
    environments,
    queue: {
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
    },
  };
}

const short = (commit: string | undefined) => (commit === undefined ? '-' : commit.slice(0, 12));

const firstLine = (text: string) => {
  const [line = ''] = text.split('\n');
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
};

function describeTrigger(trigger: JobTrigger): string {
  if (trigger.kind === 'push') return `push (${trigger.provider})`;
  if (trigger.kind === 'reconcile') return `reconcile (${trigger.reason})`;
  return `manual (${trigger.requestedBy})`;
}

/** The report as text for a terminal. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  if (report.environments.length === 0) lines.push('No environment deployed or configured yet.');
  for (const env of report.environments) {
    const flags = [env.configured === false ? 'not in the configuration' : '', env.lock ? 'deploying' : '']
      .filter((flag) => flag !== '')
      .join(', ');
    lines.push(`${env.group} (${env.part})${flags === '' ? '' : ` [${flags}]`}`);
    lines.push(
      `  sync:        ${env.sync.status}${env.sync.message === '' ? '' : `: ${firstLine(env.sync.message)}`}`,
    );
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
  }
  const { queue } = report;
  lines.push('');
  lines.push(
    `Queue: ${queue.queued} queued, ${queue.running} running, ${queue.deadLetters.length} dead letters`,
  );
  for (const job of queue.jobs) {
    lines.push(
      `  #${job.id} ${job.group} ${short(job.commit)} ${job.trigger} ${job.running ? 'running' : 'queued'}, ${job.attempts} attempt(s)${job.lastError === undefined ? '' : `, last error: ${firstLine(job.lastError)}`}`,
    );
  }
  for (const dead of queue.deadLetters) {
    lines.push(
      `  dead letter #${dead.id} ${dead.group} ${short(dead.commit)} after ${dead.attempts} attempt(s) at ${dead.failedAt}: ${firstLine(dead.lastError)}`,
    );
  }
  return lines.join('\n');
}
