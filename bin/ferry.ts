#!/usr/bin/env node
// The `ferry` command: the local mode (`ferry serve`, which `npm start` runs) and the tools around it. An entry
// point like the Lambda handlers: it wires the core's use cases (intake, deploy, reconcile) to the local
// adapters (SQLite store and queue, secrets from the environment or a file, kubeconfig clusters) and adds
// nothing of its own to what a deployment does.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IsomorphicGitSource } from '../functions/adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../functions/adapters/kubernetes/cluster-connector.ts';
import { databasePath, openDatabase } from '../functions/adapters/local/database.ts';
import { startHttpServer } from '../functions/adapters/local/http-server.ts';
import { type JobOutcome, JobWorker } from '../functions/adapters/local/job-worker.ts';
import { renderTools } from '../functions/adapters/local/layer-tools.ts';
import { LocalSecretSource, SecretsFileError } from '../functions/adapters/local/local-secret-source.ts';
import { createLogger, type LogFormat, type Logger } from '../functions/adapters/local/logger.ts';
import {
  parseSchedule,
  ReconcileScheduler,
  ScheduleError,
} from '../functions/adapters/local/reconcile-scheduler.ts';
import {
  claimServerFile,
  releaseServerFile,
  runningServer,
  StateDirectoryBusy,
  updateServerFile,
} from '../functions/adapters/local/server-file.ts';
import type { ClaimedJob } from '../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteJobQueue } from '../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../functions/adapters/local/sqlite-store.ts';
import { collectStatus, configuredParts, formatStatus } from '../functions/adapters/local/status.ts';
import { type Config, ConfigError, findEnvironment, loadConfigFile } from '../functions/core/config.ts';
import { type DeployDependencies, deploy, EnvironmentBusy } from '../functions/core/deploy/deploy.ts';
import { remoteOf } from '../functions/core/deploy/source.ts';
import { createIntake } from '../functions/core/intake/intake.ts';
import { type DeployJob, jobGroup } from '../functions/core/jobs.ts';
import type { DeploymentRecord, EnvironmentCheck } from '../functions/core/ports.ts';
import { checkEnvironment, type RefsCache } from '../functions/core/reconcile/check.ts';
import { planChecks } from '../functions/core/reconcile/schedule.ts';

const HELP = {
  ferry: `Usage: ferry <command> [options]

Ferry's local mode and tools: the same deploys as in AWS, on one machine, with state in a local directory.

Commands:
  serve      Receive webhooks, deploy and reconcile (what \`npm start\` runs)
  validate   Check a configuration file
  status     Show every environment's state, the deploy queue and its dead letters
  deploy     Deploy (or roll back to) a commit of an environment now

Run \`ferry <command> --help\` for a command's options. \`ferry --version\` prints the version.`,

  serve: `Usage: ferry serve [options]

Starts the local mode: an HTTP server whose POST /webhook takes GitHub, GitLab and Gitea push deliveries (as the
webhook Lambda does), GET /healthz and GET /status; a worker that deploys the queued jobs; and the reconciler,
which checks every environment for new commits and drift on the configured schedule. Ctrl-C stops it: running
deployments finish first, queued jobs wait for the next start.

Options:
  -c, --config <file>          Configuration (default: ferry.config.yaml, or FERRY_CONFIG_FILE)
  -p, --port <port>            Port to listen on (default: 8080)
      --host <address>         Address to listen on (default: 127.0.0.1)
      --state-dir <dir>        State: store, queue, Git cache (default: .ferry, or FERRY_STATE_DIR)
      --secrets <file>         YAML map of secret names to values; FERRY_SECRET_<NAME> variables win
      --no-reconcile           Do not run scheduled checks (webhooks and \`ferry deploy\` only)
      --reconcile-interval-seconds <n>
                               Check every n seconds instead of settings.reconcileSchedule
      --concurrency <n>        Environments deployed in parallel (default: 4)
      --log-format <json|text> One line per event as JSON (default) or plain text
  -h, --help                   Show this help`,

  validate: `Usage: ferry validate [options]

Validates a configuration file: prints OK and a summary, or each invalid field (exit code 1). Warns about
what \`ferry serve\` would miss: secrets that are not set, kubeconfig files that do not exist, cron schedules.

Options:
  -c, --config <file>   Configuration (default: ferry.config.yaml, or FERRY_CONFIG_FILE)
      --secrets <file>  YAML map of secret names to values, checked with the FERRY_SECRET_<NAME> variables
  -h, --help            Show this help`,

  status: `Usage: ferry status [options]

Prints every environment part's last applied commit, sync status, last check and last deployments, and the
deploy queue with its dead letters, from the state directory (a server may be running or not).

Options:
      --state-dir <dir>   State directory (default: .ferry, or FERRY_STATE_DIR)
  -c, --config <file>     Also list the configured parts never deployed (default: ferry.config.yaml if present)
      --json              Print the status as JSON (as GET /status answers)
  -h, --help              Show this help`,

  deploy: `Usage: ferry deploy <app> <environment> <commit> [options]

Deploys a commit to an environment: a full commit SHA, or a branch or tag of the app's repository (resolved to
its commit now). The job is queued in the state directory; a running \`ferry serve\` deploys it, otherwise this
command deploys it at once and prints the result (exit code 1 when it fails).

A manual deploy is a rollback-kind job, requested by you: it is applied even when the commit is older than the
last applied one (a push or reconcile job would be skipped as superseded), and no newer job supersedes it.

Options:
      --part <app|config>  The app's objects (default) or the environment's configuration
      --rollback           Say that this is a rollback (every manual deploy already is one)
      --ref <ref>          Ref recorded with a commit SHA (default: the ref last applied, or the tracked branch)
  -c, --config <file>      Configuration (default: ferry.config.yaml, or FERRY_CONFIG_FILE)
      --state-dir <dir>    State directory (default: .ferry, or FERRY_STATE_DIR)
      --secrets <file>     YAML map of secret names to values; FERRY_SECRET_<NAME> variables win
  -h, --help               Show this help`,
} as const;

type Command = Exclude<keyof typeof HELP, 'ferry'>;

/** A wrong command line: the message and the command whose help to point at. */
class UsageError extends Error {
  override name = 'UsageError';
  readonly command: keyof typeof HELP;
  constructor(message: string, command: keyof typeof HELP) {
    super(message);
    this.command = command;
  }
}

/** A failure the user can act on: printed as it is, exit code 1. */
class CliError extends Error {
  override name = 'CliError';
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

const defaultConfigPath = () => process.env.FERRY_CONFIG_FILE || 'ferry.config.yaml';
const defaultStateDir = () => process.env.FERRY_STATE_DIR || '.ferry';

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  command: keyof typeof HELP,
  args: readonly string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

function integer(value: string | undefined, name: string, command: Command, min: number, max: number) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`, command);
  }
  return number;
}

function logFormat(value: string | undefined, command: Command): LogFormat {
  if (value === undefined || value === 'json' || value === 'text') return value ?? 'json';
  throw new UsageError(`--log-format must be json or text, not "${value}"`, command);
}

/**
 * Reads and validates the configuration. Relative kubeconfig paths (and `~/`) are taken from the configuration
 * file's directory, so that the server finds them wherever it is started.
 */
async function readConfig(path: string): Promise<Config> {
  let config: Config;
  try {
    config = await loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(`cannot read the configuration ${path}: no such file (pass --config <file>)`);
    }
    throw new CliError(`cannot read the configuration ${path}: ${code ?? (error as Error).message}`);
  }
  const base = dirname(resolve(path));
  return {
    ...config,
    clusters: config.clusters.map((cluster) => {
      if (cluster.type !== 'kubeconfig' || cluster.kubeconfig === undefined) return cluster;
      const file = cluster.kubeconfig;
      const expanded = file === '~' || file.startsWith('~/') ? join(homedir(), file.slice(1)) : file;
      return { ...cluster, kubeconfig: isAbsolute(expanded) ? expanded : resolve(base, expanded) };
    }),
  };
}

/** The local adapters over one state directory. */
function openState(stateDir: string) {
  const db = openDatabase(stateDir);
  return { db, store: new SqliteStore(db), queue: new SqliteJobQueue(db) };
}

async function secretsOf(file: string | undefined): Promise<LocalSecretSource> {
  const secrets = new LocalSecretSource({ file });
  try {
    await secrets.check();
  } catch (error) {
    if (error instanceof SecretsFileError) throw new CliError(error.message);
    throw error;
  }
  return secrets;
}

/** The worker's job: one deploy, logged. */
function deployJobRunner(deps: DeployDependencies, logger: Logger) {
  return async (claimed: ClaimedJob): Promise<DeploymentRecord> => {
    const { job } = claimed;
    logger.info('deployment started', {
      job: claimed.id,
      group: claimed.group,
      commit: job.commit,
      ref: job.ref,
      trigger: job.trigger.kind,
      attempt: claimed.attempt,
    });
    const record = await deploy(job, deps, { supersededInQueue: claimed.supersededInQueue });
    (record.result === 'failed' ? logger.warn : logger.info)('deployment finished', {
      job: claimed.id,
      group: claimed.group,
      commit: job.commit,
      result: record.result,
      deployment: record.id,
      detail: record.message,
    });
    return record;
  };
}

async function serve(args: readonly string[]): Promise<number> {
  const { values } = parse('serve', args, {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'state-dir': { type: 'string' },
    secrets: { type: 'string' },
    reconcile: { type: 'boolean', default: true },
    'reconcile-interval-seconds': { type: 'string' },
    concurrency: { type: 'string' },
    'log-format': { type: 'string' },
  });
  if (values.help) return help('serve');
  const port = integer(values.port, 'port', 'serve', 0, 65535) ?? 8080;
  const intervalSeconds = integer(
    values['reconcile-interval-seconds'],
    'reconcile-interval-seconds',
    'serve',
    1,
    86400,
  );
  const concurrency = integer(values.concurrency, 'concurrency', 'serve', 1, 64) ?? 4;
  const logger = createLogger({ format: logFormat(values['log-format'], 'serve') });
  const configPath = values.config ?? defaultConfigPath();
  const config = await readConfig(configPath);
  let intervalMs: number | undefined;
  if (values.reconcile) {
    if (intervalSeconds !== undefined) intervalMs = intervalSeconds * 1000;
    else {
      try {
        const schedule = parseSchedule(config.settings.reconcileSchedule);
        if (schedule.warning !== undefined) logger.warn(schedule.warning);
        intervalMs = schedule.intervalMs;
      } catch (error) {
        if (error instanceof ScheduleError) throw new CliError(error.message);
        throw error;
      }
    }
  }
  const secrets = await secretsOf(values.secrets);
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir());
  const { db, store, queue } = openState(stateDir);
  const startedAt = new Date().toISOString();
  try {
    claimServerFile(stateDir, {
      pid: process.pid,
      url: `http://${values.host ?? '127.0.0.1'}:${port}`,
      startedAt,
    });
  } catch (error) {
    db.close();
    if (error instanceof StateDirectoryBusy) throw new CliError(error.message);
    throw error;
  }
  const release = () => releaseServerFile(stateDir, process.pid);
  try {
    logger.info('preparing kubectl and helm');
    const tools = await renderTools();
    const clusters = new KubernetesClusterConnector();
    const git = new IsomorphicGitSource(join(stateDir, 'git'));
    const deps: DeployDependencies = { config, store, git, secrets, clusters, tools };

    const intake = createIntake({ config, queue, deliveries: store, secrets, logger });
    const worker = new JobWorker(queue, deployJobRunner(deps, logger), {
      logger,
      concurrency,
      isTransient: (error) => error instanceof EnvironmentBusy,
    });
    const scheduler =
      intervalMs === undefined
        ? undefined
        : new ReconcileScheduler<EnvironmentCheck, RefsCache>({
            intervalMs,
            logger,
            plan: (tickId, now) => planChecks(config, tickId, now),
            newTick: () => new Map(),
            keyOf: (check) => jobGroup(check),
            run: async (check, refs) => {
              const result = await checkEnvironment(check, { ...deps, store, queue }, refs);
              (result.action === 'error' ? logger.warn : logger.info)('environment checked', {
                group: jobGroup(check),
                action: result.action,
                head: result.headCommit,
                drifted: result.drifted.length,
                detail: result.message,
              });
            },
          });
    const http = await startHttpServer({
      host: values.host ?? '127.0.0.1',
      port,
      webhook: intake,
      status: () => collectStatus(store, queue, config),
      health: () => ({ status: 'ok', startedAt, runningJobs: worker.running }),
      maxBodyBytes: config.settings.maxWebhookBodyBytes + 64 * 1024,
      logger,
    }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (pass --port <port>)`);
      if (code === 'EACCES') throw new CliError(`port ${port} needs privileges (pass --port <port>)`);
      throw error;
    });
    updateServerFile(stateDir, { pid: process.pid, url: http.url, startedAt });
    worker.start();
    scheduler?.start();
    logger.info('ferry local mode started', {
      url: http.url,
      webhook: `${http.url}/webhook`,
      config: resolve(configPath),
      stateDir,
      environmentParts: configuredParts(config).length,
      reconcileEverySeconds: intervalMs === undefined ? 'off' : intervalMs / 1000,
      queued: queue.pending().length,
    });

    await new Promise<void>((resolveStop) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn('forced to stop; interrupted jobs run again at the next start', { signal });
          release();
          process.exit(130);
        }
        stopping = true;
        logger.info('stopping: no new jobs; waiting for the running ones (Ctrl-C again forces)', {
          signal,
          runningJobs: worker.running,
        });
        resolveStop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await Promise.all([http.close(), scheduler?.stop(), worker.stop()]);
    clusters.close();
    db.close();
    release();
    logger.info('stopped', { queued: 'kept in the state directory' });
    return 0;
  } catch (error) {
    release();
    throw error;
  }
}

async function validate(args: readonly string[]): Promise<number> {
  const { values } = parse('validate', args, {
    config: { type: 'string', short: 'c' },
    secrets: { type: 'string' },
  });
  if (values.help) return help('validate');
  const path = values.config ?? defaultConfigPath();
  const config = await readConfig(path);
  const secrets = await secretsOf(values.secrets);
  const environments = config.apps.flatMap((app) => app.environments);
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  out(`OK: ${path}`);
  out(
    `  ${plural(config.repositories.length, 'repository').replace('repositorys', 'repositories')}, ${plural(config.clusters.length, 'cluster')}, ${plural(config.apps.length, 'app')}, ${plural(environments.length, 'environment')} (${plural(configuredParts(config).length, 'deployable part')})`,
  );
  for (const app of config.apps) {
    out(`  ${app.name} (repository ${app.repository}, path ${app.path}):`);
    for (const env of app.environments) {
      const trigger = [
        env.trigger.branches.length > 0 ? `branches ${env.trigger.branches.join(', ')}` : '',
        env.trigger.tags.length > 0 ? `tags ${env.trigger.tags.join(', ')}` : '',
      ]
        .filter((t) => t !== '')
        .join('; ');
      const flags = [
        env.suspend ? 'suspended' : '',
        env.autoSync ? '' : 'autoSync off',
        env.selfHeal ? 'selfHeal' : '',
        env.config === undefined ? '' : `config ${env.config.path}`,
      ].filter((f) => f !== '');
      out(
        `    ${env.name}: cluster ${env.cluster}, namespace ${env.namespace}, ${trigger}${flags.length === 0 ? '' : ` (${flags.join(', ')})`}`,
      );
    }
  }
  out(`  reconcile: ${config.settings.reconcileSchedule}, jitter ${config.settings.reconcileJitterSeconds}s`);
  const warnings: string[] = [];
  try {
    const { warning } = parseSchedule(config.settings.reconcileSchedule);
    if (warning !== undefined) warnings.push(warning);
  } catch (error) {
    warnings.push(`${(error as Error).message}: \`ferry serve\` refuses it`);
  }
  for (const cluster of config.clusters) {
    if (cluster.type === 'eks') {
      warnings.push(`cluster ${cluster.name} is an EKS cluster: in local mode it needs AWS credentials`);
    } else if (cluster.kubeconfig !== undefined && !existsSync(cluster.kubeconfig)) {
      warnings.push(`cluster ${cluster.name}: kubeconfig ${cluster.kubeconfig} does not exist`);
    }
  }
  const secretNames = new Set(
    config.repositories.flatMap((r) => [
      r.webhookSecret,
      ...(r.tokenSecret === undefined ? [] : [r.tokenSecret]),
    ]),
  );
  for (const name of secretNames) {
    // Only whether it is set: its value is never printed.
    await secrets.getSecret(name).catch((error: unknown) => warnings.push((error as Error).message));
  }
  for (const warning of warnings) out(`warning: ${warning}`);
  return 0;
}

async function status(args: readonly string[]): Promise<number> {
  const { values } = parse('status', args, {
    'state-dir': { type: 'string' },
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) return help('status');
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir());
  if (!existsSync(databasePath(stateDir))) {
    throw new CliError(
      `no Ferry state in ${stateDir}: start \`ferry serve\` there, or pass --state-dir <dir>`,
    );
  }
  let config: Config | undefined;
  if (values.config !== undefined) config = await readConfig(values.config);
  else if (existsSync(defaultConfigPath())) {
    // The status is in the state directory: a configuration that does not load only hides the unused parts.
    config = await readConfig(defaultConfigPath()).catch((error: unknown) => {
      err(`warning: ${(error as Error).message.split('\n')[0]}; listing only what the state directory holds`);
      return undefined;
    });
  }
  const { db, store, queue } = openState(stateDir);
  try {
    const report = await collectStatus(store, queue, config);
    if (values.json) out(JSON.stringify(report, null, 2));
    else {
      const server = runningServer(stateDir);
      out(
        server === undefined
          ? `State: ${stateDir} (no server running)`
          : `State: ${stateDir} (server pid ${server.pid} at ${server.url})`,
      );
      out('');
      out(formatStatus(report));
    }
  } finally {
    db.close();
  }
  return 0;
}

const SHA = /^[0-9a-f]{40}$/;

function requester(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

async function deployCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'deploy',
    args,
    {
      part: { type: 'string', default: 'app' },
      rollback: { type: 'boolean', default: false },
      ref: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'state-dir': { type: 'string' },
      secrets: { type: 'string' },
    },
    true,
  );
  if (values.help) return help('deploy');
  const [appName, environmentName, target, ...extra] = positionals;
  if (appName === undefined || environmentName === undefined || target === undefined || extra.length > 0) {
    throw new UsageError('expected <app> <environment> <commit>', 'deploy');
  }
  const part = values.part;
  if (part !== 'app' && part !== 'config')
    throw new UsageError(`--part must be app or config, not "${part}"`, 'deploy');
  const configPath = values.config ?? defaultConfigPath();
  const config = await readConfig(configPath);
  const found = findEnvironment(config, appName, environmentName);
  if (found === undefined) {
    throw new CliError(`no environment "${environmentName}" of app "${appName}" in ${configPath}`);
  }
  if (part === 'config' && found.environment.config === undefined) {
    throw new CliError(`environment ${environmentName} of ${appName} has no config part (no config.path)`);
  }
  const secrets = await secretsOf(values.secrets);
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir());
  const { db, store, queue } = openState(stateDir);
  const key = { app: appName, environment: environmentName, part } as const;
  const git = new IsomorphicGitSource(join(stateDir, 'git'));

  let commit = target;
  let ref = values.ref;
  if (!SHA.test(target)) {
    const remote = await remoteOf(config, secrets, found.app);
    const refs = await git.listRefs(remote).catch((error: unknown) => {
      throw new CliError(`cannot list the refs of ${remote.url}: ${(error as Error).message}`);
    });
    const candidates = target.startsWith('refs/')
      ? [target]
      : [`refs/heads/${target}`, `refs/tags/${target}`];
    const match = candidates.find((candidate) => refs.has(candidate));
    if (match === undefined) {
      throw new CliError(
        `"${target}" is neither a full 40-character commit SHA nor a branch or tag of ${remote.url}`,
      );
    }
    commit = refs.get(match) ?? '';
    ref ??= match;
  }
  if (ref === undefined) {
    const last = (await store.get(key))?.lastApplied?.ref;
    const branch = found.environment.trigger.branches.find((b) => !/[*?[\]{}!]/.test(b));
    ref = last ?? (branch === undefined ? 'refs/heads/manual' : `refs/heads/${branch}`);
  }
  const job: DeployJob = {
    ...key,
    ref,
    commit,
    trigger: { kind: 'rollback', requestedBy: requester() },
    enqueuedAt: new Date().toISOString(),
  };
  // Every manual request is a job of its own: its deduplication id is unique.
  const deduplicationId = createHash('sha256')
    .update(`manual\n${jobGroup(key)}\n${commit}\n${job.enqueuedAt}\n${randomBytes(8).toString('hex')}`)
    .digest('hex');
  const group = jobGroup(key);
  const server = runningServer(stateDir);
  if (server !== undefined) {
    const [id] = queue.add([{ job, deduplicationId }]);
    db.close();
    out(`Enqueued job #${id} to deploy ${commit.slice(0, 12)} (${ref}) to ${group}.`);
    out(`The server (pid ${server.pid}, ${server.url}) deploys it; \`ferry status\` shows the result.`);
    return 0;
  }

  const logger = createLogger({ format: 'text', write: err });
  const clusters = new KubernetesClusterConnector();
  try {
    const deps: DeployDependencies = { config, store, git, secrets, clusters, tools: await renderTools() };
    let jobId: number | undefined;
    let settled: ((outcome: JobOutcome<DeploymentRecord>) => void) | undefined;
    const outcome = new Promise<JobOutcome<DeploymentRecord>>((resolveOutcome) => {
      settled = resolveOutcome;
    });
    const worker = new JobWorker(queue, deployJobRunner(deps, logger), {
      logger,
      group,
      isTransient: (error) => error instanceof EnvironmentBusy,
      onSettled: (claimed, result) => {
        if (claimed.id === jobId && result.kind !== 'retry') settled?.(result);
      },
    });
    [jobId] = queue.add([{ job, deduplicationId }]);
    const ahead = queue.pending().filter((p) => p.group === group && p.id !== jobId).length;
    out(
      `Deploying ${commit.slice(0, 12)} (${ref}) to ${group}${ahead > 0 ? ` after ${ahead} queued job(s) of the environment` : ''}...`,
    );
    worker.start();
    const result = await outcome;
    await worker.stop();
    if (result.kind === 'dead') {
      out(`failed for good after retries: ${result.error}`);
      out('The job is in the dead letters (`ferry status`).');
      return 1;
    }
    if (result.kind !== 'done') return 1;
    const record = result.result;
    out(`${record.result}: ${record.message}`);
    for (const object of record.objects) {
      out(`  ${object.action} ${object.object}${object.message === undefined ? '' : `: ${object.message}`}`);
    }
    return record.result === 'succeeded' ? 0 : 1;
  } finally {
    clusters.close();
    db.close();
  }
}

function help(command: keyof typeof HELP): number {
  out(HELP[command]);
  return 0;
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

const COMMANDS: Readonly<Record<Command, (args: readonly string[]) => Promise<number>>> = {
  serve,
  validate,
  status,
  deploy: deployCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') return help('ferry');
  if (command === '--version' || command === '-v') {
    out(version());
    return 0;
  }
  if (command === 'help') {
    const topic = args[0] ?? 'ferry';
    if (!(topic in HELP)) throw new UsageError(`unknown command "${topic}"`, 'ferry');
    return help(topic as keyof typeof HELP);
  }
  const run = COMMANDS[command as Command] as ((args: readonly string[]) => Promise<number>) | undefined;
  if (run === undefined) throw new UsageError(`unknown command "${command}"`, 'ferry');
  return run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`ferry: ${error.message}`);
      err(`Run \`ferry ${error.command === 'ferry' ? '' : `${error.command} `}--help\` for usage.`);
      process.exit(2);
    }
    // Known failures are one clear line; anything else is reported without a stack trace too.
    err(`ferry: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
