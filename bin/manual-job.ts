// What `ferry deploy` and `ferry resume` share: the part a manual job is for, who asks for it, the refs of its
// repository, and how the job runs: by the server on the state directory, or here and now, with its result.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { JobOutcome } from '../functions/adapters/local/job-worker.ts';
import { createLogger } from '../functions/adapters/local/logger.ts';
import { runningServer } from '../functions/adapters/local/server-file.ts';
import { type Config, findEnvironment } from '../functions/core/config.ts';
import { errorMessage } from '../functions/core/errors.ts';
import { short } from '../functions/core/model/commit.ts';
import { createJob, type DeployJob } from '../functions/core/model/job.ts';
import { type ConfiguredPart, findPart, type PartKey, partId } from '../functions/core/model/part.ts';
import type { DeploymentRecord } from '../functions/core/model/records.ts';
import type { SecretSource } from '../functions/core/ports.ts';
import { remoteOf } from '../functions/core/source/revision.ts';
import { LocalRuntime, type LocalState, openLocalState } from '../functions/runtime/local.ts';
import {
  CliError,
  CONFIG_HELP,
  defaultConfigPath,
  defaultStateDir,
  err,
  type OptionHelp,
  oneOf,
  out,
  SECRETS_HELP,
  STATE_DIR_HELP,
} from './cli.ts';
import { openSecrets, readConfig } from './inputs.ts';

/** The options both commands take. */
export const PART_OPTIONS = {
  part: { type: 'string', default: 'app' },
  config: { type: 'string', short: 'c' },
  'state-dir': { type: 'string' },
  secrets: { type: 'string' },
} as const;

export const PART_OPTIONS_HELP: readonly OptionHelp[] = [
  ['--part <app|config>', "The app's objects (default) or the environment's configuration"],
  CONFIG_HELP,
  STATE_DIR_HELP,
  SECRETS_HELP,
];

/** A configured part and what a manual job for it needs. */
export interface ManualPart {
  readonly key: PartKey;
  readonly found: ConfiguredPart;
  readonly config: Config;
  readonly secrets: SecretSource;
  readonly state: LocalState;
}

/** Finds the part in the configuration and opens the secrets and the state directory. */
export async function openPart(
  command: string,
  app: string,
  environment: string,
  values: {
    readonly part: string;
    readonly config?: string;
    readonly secrets?: string;
    readonly 'state-dir'?: string;
  },
): Promise<ManualPart> {
  const key = { app, environment, part: oneOf(values.part, 'part', command, ['app', 'config']) };
  const configPath = values.config ?? defaultConfigPath();
  const config = await readConfig(configPath);
  const found = findPart(config, key);
  if (found === undefined) {
    throw new CliError(
      findEnvironment(config, app, environment) === undefined
        ? `no environment "${environment}" of app "${app}" in ${configPath}`
        : `environment ${environment} of ${app} has no config part (no config.path)`,
    );
  }
  const secrets = await openSecrets(values.secrets);
  const state = openLocalState(resolve(values['state-dir'] ?? defaultStateDir()));
  return { key, found, config, secrets, state };
}

/** The refs of the part's repository now, as `git ls-remote` lists them. */
export async function remoteRefs(part: ManualPart): Promise<Map<string, string>> {
  const remote = await remoteOf(part.config, part.secrets, part.found.app);
  return part.state.git.listRefs(remote).catch((error: unknown) => {
    throw new CliError(`cannot list the refs of ${remote.url}: ${errorMessage(error)}`);
  });
}

/** Your OS user, whom the job's record and a pin name. */
function requester(): string {
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

/**
 * Runs a manual job: a server running on the state directory is given it; otherwise it is deployed here and
 * now, and its result printed. The exit code: 0 once it is queued for the server or deployed, else 1.
 */
export async function submit(part: ManualPart, job: DeployJob): Promise<number> {
  const server = runningServer(part.state.dir);
  if (server !== undefined) {
    const [id] = part.state.queue.add([job]);
    out(`Enqueued job #${id} to deploy ${describe(job)}.`);
    out(`The server (pid ${server.pid}, ${server.url}) deploys it; \`ferry status\` shows the result.`);
    return 0;
  }
  const runtime = await LocalRuntime.start(part.state, {
    config: part.config,
    secrets: part.secrets,
    logger: createLogger({ format: 'text', write: err }),
  });
  try {
    return printOutcome(await deployHere(runtime, part.state, job));
  } finally {
    await runtime.close();
  }
}

/** Queues the job behind the part's others and deploys them with a worker of that part only. */
async function deployHere(
  runtime: LocalRuntime,
  state: LocalState,
  job: DeployJob,
): Promise<JobOutcome<DeploymentRecord>> {
  const group = partId(job);
  let id: number | undefined;
  let settle: ((outcome: JobOutcome<DeploymentRecord>) => void) | undefined;
  const settled = new Promise<JobOutcome<DeploymentRecord>>((resolveOutcome) => {
    settle = resolveOutcome;
  });
  const worker = runtime.worker({
    group,
    onSettled: (claimed, outcome) => {
      if (claimed.id === id && outcome.kind !== 'retry') settle?.(outcome);
    },
  });
  [id] = state.queue.add([job]);
  const ahead = state.queue.pending().filter((p) => p.group === group && p.id !== id).length;
  out(`Deploying ${describe(job)}${ahead > 0 ? ` after ${ahead} queued job(s) of the part` : ''}...`);
  worker.start();
  const outcome = await settled;
  await worker.stop();
  return outcome;
}

function printOutcome(outcome: JobOutcome<DeploymentRecord>): number {
  if (outcome.kind !== 'done') {
    out(`failed for good after retries: ${outcome.error}`);
    out('The job is in the dead letters (`ferry status`).');
    return 1;
  }
  const record = outcome.result;
  out(`${record.result}: ${record.message}`);
  for (const object of record.objects) {
    out(`  ${object.action} ${object.object}${object.message === undefined ? '' : `: ${object.message}`}`);
  }
  return record.result === 'succeeded' || record.result === 'current' ? 0 : 1;
}
