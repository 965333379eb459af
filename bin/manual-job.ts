// What the commands that deploy (`deploy`, `rollback`, `resume`) share: the part a manual job is for, who asks
// for it, the refs of its repository, and how the job runs: by the install's worker (a local server, the stack's
// worker function), whose record it waits for, or here and now when no local server runs.
import { userInfo } from 'node:os';
import { durationSeconds } from '../functions/core/config.ts';
import { errorMessage } from '../functions/core/errors.ts';
import { short } from '../functions/core/model/commit.ts';
import { createJob, type DeployJob } from '../functions/core/model/job.ts';
import { findPart, type PartKey, partId } from '../functions/core/model/part.ts';
import type { DeploymentRecord } from '../functions/core/model/records.ts';
import { remoteOf } from '../functions/core/source/revision.ts';
import { DEPLOY_MAX_RECEIVE_COUNT } from '../functions/names.ts';
import { CliError, type OptionHelp, out, UsageError } from './cli.ts';
import { type ManualPart, requireConfig, type Target } from './install.ts';
import { duration } from './present.ts';
import { progress } from './progress.ts';
import { TARGET_HELP, TARGET_OPTIONS } from './target.ts';

export type { ManualPart } from './install.ts';

/** The options every deploying command takes. */
export const PART_OPTIONS = {
  ...TARGET_OPTIONS,
  part: { type: 'string' },
  wait: { type: 'boolean', default: true },
  timeout: { type: 'string', default: '15m' },
} as const;

export const PART_OPTIONS_HELP: readonly OptionHelp[] = [
  ['--part <app|config>', "The app's objects (default) or the environment's configuration"],
  ['--no-wait', 'Return once the job is queued, without waiting for its deployment'],
  ['--timeout <duration>', 'How long to wait for the deployment: 90s, 10m, 1h (default: 15m)'],
  ...TARGET_HELP,
];

/** The configured part, or a failure naming what the configuration lacks. */
export function openPart(target: Target, key: PartKey): ManualPart {
  const config = requireConfig(target);
  const found = findPart(config, key);
  if (found === undefined) {
    const app = config.apps.find((a) => a.name === key.app);
    throw new CliError(
      app?.environments.some((e) => e.name === key.environment)
        ? `environment ${key.environment} of ${key.app} has no config part (no config.path)`
        : `no environment "${key.environment}" of app "${key.app}" in the configuration`,
    );
  }
  return { key, found, target };
}

/** The refs of the part's repository now, as `git ls-remote` lists them. */
export async function remoteRefs(part: ManualPart): Promise<Map<string, string>> {
  const config = requireConfig(part.target);
  const [secrets, git] = await Promise.all([part.target.secrets(), part.target.git()]);
  const remote = await remoteOf(config, secrets, part.found.app).catch((error: unknown) => {
    throw new CliError(`cannot reach repository ${part.found.app.repository}: ${errorMessage(error)}`);
  });
  return git.listRefs(remote).catch((error: unknown) => {
    throw new CliError(
      `cannot list the refs of repository ${part.found.app.repository} (${remote.url}): ${errorMessage(error)}`,
    );
  });
}

/** Your OS user, whom the job's record and a pin name. */
export function requester(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** A manual job: pinning the part at the target's commit, or following the target's ref (releasing any pin). */
export function manualJob(
  key: PartKey,
  target: { readonly ref: string; readonly commit: string },
  options: { readonly pin: boolean; readonly overrideDeletionBudget: boolean },
): DeployJob {
  return createJob(key, target, { kind: 'manual', requestedBy: requester(), ...options });
}

const describe = (job: DeployJob) =>
  `${short(job.commit)} (${job.ref}) to ${partId(job)}${job.trigger.kind === 'manual' && job.trigger.pin ? ', pinned there' : ''}`;

/** `--timeout`: a duration such as 90s, 10m or 1h30m, or whole seconds. */
export function timeoutMs(value: string, command: string): number {
  const seconds = /^\d+$/.test(value) ? Number(value) : durationSeconds(value);
  if (!(seconds > 0)) {
    throw new UsageError(`--timeout must be a duration such as 90s, 10m or 1h, not "${value}"`, command);
  }
  return seconds * 1000;
}

export interface SubmitOptions {
  readonly wait: boolean;
  readonly timeoutMs: number;
}

/**
 * Runs a manual job: the install's worker is given it (and, unless told not to, its record waited for); with no
 * local server, it is deployed here and now. The exit code: 0 once deployed (or queued, without waiting), else 1.
 */
export async function submit(part: ManualPart, job: DeployJob, options: SubmitOptions): Promise<number> {
  const { target } = part;
  if (target.worker === undefined) {
    const { deployHere } = await import('./deploy-here.ts');
    out(`Deploying ${describe(job)}...`);
    const outcome = await deployHere(part, job);
    if (outcome.kind === 'dead') {
      out(`failed for good after retries: ${outcome.error}`);
      out('The job is in the dead letters: `ferry redrive` puts it back once fixed.');
      return 1;
    }
    return printOutcome(outcome.record);
  }
  await target.operations.enqueue([job]);
  out(`Enqueued job ${job.id.slice(0, 12)} to deploy ${describe(job)}.`);
  out(`${capitalised(target.worker)} deploys it; \`ferry status\` shows the result.`);
  if (!options.wait) return 0;
  const record = await awaitRecord(target, job, options.timeoutMs);
  return record === undefined ? 1 : printOutcome(record);
}

const capitalised = (text: string) => `${text.slice(0, 1).toUpperCase()}${text.slice(1)}`;

/** Polls the part's history for the job's record, showing its attempts; undefined when it never came. */
async function awaitRecord(
  target: Target,
  job: DeployJob,
  timeout: number,
): Promise<DeploymentRecord | undefined> {
  const started = Date.now();
  const shown = await progress(`Waiting for ${target.worker} to deploy ${short(job.commit)}...`);
  const interval = target.kind === 'aws' ? 2000 : 500;
  while (Date.now() - started < timeout) {
    const records = (await target.operations.history(job, 20)).filter((r) => r.jobId === job.id);
    const final = records.find((r) => r.failure !== 'transient');
    if (final !== undefined) {
      shown.done(`${final.result} after ${duration(Date.now() - started)}`, final.result !== 'failed');
      return final;
    }
    const [attempt] = records;
    if (records.length >= DEPLOY_MAX_RECEIVE_COUNT && attempt !== undefined) {
      shown.done(`failed ${records.length} times, dead-lettered: ${attempt.message}`, false);
      out('The job is in the dead letters: `ferry redrive` puts it back once fixed.');
      return undefined;
    }
    if (attempt !== undefined) shown.update(`Attempt ${records.length} failed, retried: ${attempt.message}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  shown.done(`not deployed within ${duration(timeout)}: \`ferry status\` shows it when it is`, false);
  return undefined;
}

/** Prints a deployment's result and objects; the exit code. */
export function printOutcome(record: DeploymentRecord): number {
  out(`${record.result}: ${record.message}`);
  for (const object of record.objects) {
    out(`  ${object.action} ${object.object}${object.message === undefined ? '' : `: ${object.message}`}`);
  }
  return record.result === 'succeeded' || record.result === 'current' ? 0 : 1;
}
