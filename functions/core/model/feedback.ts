// What Ferry tells people about a part: a commit status on the Git host, and a message when the part's sync
// status changes (it failed, drifted, or recovered).
import { short } from './commit.ts';
import { APPLIED_ACTIONS } from './inventory.ts';
import type { PartKey } from './part.ts';
import type { DeploymentRecord, SyncStatus } from './records.ts';

/**
 * The state of a part's deployment of one commit, as the commit shows it. Each host maps these to its own
 * states (GitHub has no `running` or `superseded`: pending and success with the description; GitLab has
 * `canceled`; Gitea `warning`).
 */
export type CommitState = 'pending' | 'running' | 'success' | 'failure' | 'superseded' | 'out-of-sync';

export interface CommitStatus {
  readonly key: PartKey;
  readonly commit: string;
  readonly ref: string;
  readonly state: CommitState;
  /** One line, at most DESCRIPTION_LENGTH characters. */
  readonly description: string;
  /** Where to read more: the status page, or the deployment's logs. */
  readonly targetUrl?: string;
  /** The deployment the status speaks of, when there is one (for a log link). */
  readonly deploymentId?: string;
  /** A plan of a pull request's head (`ferry/plan/…`), which deploys nothing; else a deployment's status. */
  readonly subject?: 'plan';
}

/** A change of a part's sync status: one message per change, not per check. */
export interface SyncChange {
  readonly key: PartKey;
  readonly from: SyncStatus;
  readonly to: SyncStatus;
  readonly commit?: string;
  readonly message: string;
  readonly at: string;
}

/** GitHub's limit on a status description, the shortest of the hosts'. */
export const DESCRIPTION_LENGTH = 140;

/**
 * The status context of a part: `ferry/<app>/<environment>`, plus `/config` for its configuration; a plan's is
 * `ferry/plan/<app>/<environment>` (and `/config`).
 */
export function statusContext({ app, environment, part }: PartKey, subject?: 'plan'): string {
  const prefix = subject === 'plan' ? 'ferry/plan' : 'ferry';
  return part === 'app' ? `${prefix}/${app}/${environment}` : `${prefix}/${app}/${environment}/config`;
}

/** A message cut to one line of the description's length. */
export function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, '; ').trim();
  return line.length <= DESCRIPTION_LENGTH ? line : `${line.slice(0, DESCRIPTION_LENGTH - 1)}…`;
}

/**
 * The commit statuses a finished deployment leaves: its result on the commit it deployed, and, when the job
 * named another commit, that commit superseded by it.
 */
export function statusesOf(record: DeploymentRecord, durationMs: number): CommitStatus[] {
  const base = { key: record.key, ref: record.ref, deploymentId: record.id };
  const statuses: CommitStatus[] = [];
  if (record.requestedCommit !== undefined) {
    statuses.push({
      ...base,
      commit: record.requestedCommit,
      state: 'superseded',
      description: `superseded by ${short(record.commit).slice(0, 7)}`,
    });
  }
  const result = resultState(record, durationMs);
  if (result !== undefined) statuses.push({ ...base, commit: record.commit, ...result });
  return statuses;
}

function resultState(
  record: DeploymentRecord,
  durationMs: number,
): Pick<CommitStatus, 'state' | 'description'> | undefined {
  const seconds = `${(durationMs / 1000).toFixed(1)} s`;
  switch (record.result) {
    case 'succeeded':
      return { state: 'success', description: oneLine(`${countsOf(record)} in ${seconds}`) };
    case 'failed':
      return {
        state: record.failure === 'transient' ? 'running' : 'failure',
        description: oneLine(
          record.failure === 'rejected' ? `rejected: ${firstReason(record)}` : record.message,
        ),
      };
    case 'skipped':
      return { state: 'superseded', description: oneLine(record.message) };
    case 'waiting':
      return { state: 'pending', description: oneLine(record.message) };
    case 'current':
      // The commit runs already (a force-push back to it, a new tag on it): its pending status is answered.
      return { state: 'success', description: oneLine(record.message) };
    default:
      // A duplicate changes nothing: the commit's status stands.
      return undefined;
  }
}

/** `12 applied, 1 pruned`: what reached the cluster. */
function countsOf(record: DeploymentRecord): string {
  const applied = record.objects.filter((o) => APPLIED_ACTIONS.has(o.action)).length;
  const pruned = record.objects.filter((o) => o.action === 'pruned').length;
  const unchanged = record.objects.filter((o) => o.action === 'unchanged').length;
  return [
    `${applied} applied`,
    pruned > 0 ? `${pruned} pruned` : '',
    unchanged > 0 ? `${unchanged} unchanged` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
}

/** The first object's reason of a rejection, else its message. */
function firstReason(record: DeploymentRecord): string {
  const failed = record.objects.find((o) => o.action === 'failed' && o.message !== undefined);
  return failed?.message ?? record.message;
}
