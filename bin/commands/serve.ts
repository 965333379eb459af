// `ferry serve`: the local mode. Claims the state directory, serves webhooks and the status, deploys the queued
// jobs and runs the checks on schedule until Ctrl-C; the wiring is the local composition root's.
import { resolve } from 'node:path';
import { type HttpServerOptions, startHttpServer } from '../../functions/adapters/local/http-server.ts';
import { createLogger, type Logger } from '../../functions/adapters/local/logger.ts';
import {
  everyInterval,
  parseSchedule,
  type TickSchedule,
} from '../../functions/adapters/local/reconcile-scheduler.ts';
import {
  claimServerFile,
  releaseServerFile,
  StateDirectoryBusy,
  updateServerFile,
} from '../../functions/adapters/local/server-file.ts';
import { collectStatus, LocalOperations } from '../../functions/adapters/local/status.ts';
import type { Config } from '../../functions/core/config.ts';
import { configuredParts } from '../../functions/core/model/part.ts';
import {
  LocalRuntime,
  type LocalRuntimeOptions,
  type LocalState,
  openLocalState,
} from '../../functions/runtime/local.ts';
import {
  CliError,
  CONFIG_HELP,
  defaultConfigPath,
  defaultStateDir,
  integer,
  oneOf,
  parse,
  printHelp,
  SECRETS_HELP,
  STATE_DIR_HELP,
  usage,
} from '../cli.ts';
import { openSecrets, readConfig } from '../inputs.ts';

export const help = usage(
  'ferry serve [options]',
  `Starts the local mode: an HTTP server whose POST /webhook takes GitHub, GitLab and Gitea push deliveries (as the
webhook Lambda does), GET /healthz and GET /status; a worker that deploys the queued jobs; and the reconciler,
which checks every environment for new commits and drift on the configured schedule. Ctrl-C stops it: running
deployments finish first, queued jobs wait for the next start.`,
  [
    CONFIG_HELP,
    ['-p, --port <port>', 'Port to listen on (default: 8080)'],
    ['--host <address>', 'Address to listen on (default: 127.0.0.1)'],
    STATE_DIR_HELP,
    SECRETS_HELP,
    ['--no-reconcile', 'Do not run scheduled checks (webhooks and `ferry deploy` only)'],
    ['--reconcile-interval-seconds <n>', 'Check every n seconds instead of settings.reconcileSchedule'],
    ['--concurrency <n>', 'Environments deployed in parallel (default: 4)'],
    ['--log-format <json|text>', 'One line per event as JSON (default) or plain text'],
  ],
);

/** How this server runs, from its command line. */
interface Settings {
  readonly configPath: string;
  readonly stateDir: string;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  /** Undefined: no scheduled checks. */
  readonly schedule: TickSchedule | undefined;
}

export async function run(args: readonly string[]): Promise<number> {
  const { values } = parse('serve', args, {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'state-dir': { type: 'string' },
    secrets: { type: 'string' },
    reconcile: { type: 'boolean', default: true },
    'reconcile-interval-seconds': { type: 'string' },
    concurrency: { type: 'string' },
    'log-format': { type: 'string', default: 'json' },
  });
  if (values.help) return printHelp(help);
  const port = integer(values.port, 'port', 'serve', { min: 0, max: 65535 }) ?? 8080;
  const seconds = integer(values['reconcile-interval-seconds'], 'reconcile-interval-seconds', 'serve', {
    min: 1,
    max: 86400,
  });
  const concurrency = integer(values.concurrency, 'concurrency', 'serve', { min: 1, max: 64 }) ?? 4;
  const format = oneOf(values['log-format'], 'log-format', 'serve', ['json', 'text']);
  const logger = createLogger({ format });
  const configPath = values.config ?? defaultConfigPath();
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir());
  // Kept validated in the state directory, as the other commands keep it: a `status` after a start need not.
  const config = await readConfig(configPath, stateDir);
  const schedule = values.reconcile ? reconcileSchedule(config, seconds) : undefined;
  const secrets = await openSecrets(values.secrets);
  const settings = { configPath, stateDir, host: values.host ?? '127.0.0.1', port, concurrency, schedule };
  return serveOn(settings, { config, secrets, logger });
}

/**
 * `--reconcile-interval-seconds`, else `settings.reconcileSchedule`, which the configuration checked (the
 * scheduler warns if it has no time left).
 */
function reconcileSchedule(config: Config, seconds: number | undefined): TickSchedule {
  if (seconds === undefined) return parseSchedule(config.settings.reconcileSchedule).schedule;
  return everyInterval(seconds * 1000, `every ${seconds}s (--reconcile-interval-seconds)`);
}

/** Claims the state directory, serves until a signal, and gives the directory back. */
async function serveOn(settings: Settings, options: LocalRuntimeOptions): Promise<number> {
  const state = openLocalState(settings.stateDir);
  const startedAt = new Date().toISOString();
  try {
    claimServerFile(settings.stateDir, {
      pid: process.pid,
      url: `http://${settings.host}:${settings.port}`,
      startedAt,
    });
  } catch (error) {
    state.close();
    if (error instanceof StateDirectoryBusy) throw new CliError(error.message);
    throw error;
  }
  try {
    await serveUntilStopped(state, settings, options, startedAt);
  } finally {
    state.close();
    releaseServerFile(settings.stateDir, process.pid);
  }
  options.logger.info('stopped', { queued: 'kept in the state directory' });
  return 0;
}

async function serveUntilStopped(
  state: LocalState,
  settings: Settings,
  options: LocalRuntimeOptions,
  startedAt: string,
): Promise<void> {
  const { config, logger } = options;
  const runtime = await LocalRuntime.start(state, options);
  const worker = runtime.worker({ concurrency: settings.concurrency });
  const scheduler = settings.schedule === undefined ? undefined : runtime.scheduler(settings.schedule);
  const http = await listen(settings, {
    webhook: runtime.intake(),
    status: () => collectStatus(state.store, state.queue, config),
    page: { reader: new LocalOperations(state.store, state.queue), config },
    health: () => ({ status: 'ok', startedAt, runningJobs: worker.running }),
    maxBodyBytes: config.settings.maxWebhookBodyBytes + 64 * 1024,
    logger,
  });
  updateServerFile(settings.stateDir, { pid: process.pid, url: http.url, startedAt });
  runtime.linkStatusesTo(http.url);
  worker.start();
  scheduler?.start();
  logger.info('ferry local mode started', {
    url: http.url,
    webhook: `${http.url}/webhook`,
    config: resolve(settings.configPath),
    stateDir: settings.stateDir,
    environmentParts: configuredParts(config).length,
    reconcile: scheduler?.describe() ?? 'off',
    queued: state.queue.pending().length,
  });
  await untilSignal(logger, worker, () => releaseServerFile(settings.stateDir, process.pid));
  await Promise.all([http.close(), scheduler?.stop(), worker.stop()]);
  await runtime.close();
}

/** The HTTP server on the settings' address; a port that cannot be had is said in one line. */
async function listen(settings: Settings, options: Omit<HttpServerOptions, 'host' | 'port'>) {
  try {
    return await startHttpServer({ ...options, host: settings.host, port: settings.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const { port } = settings;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (pass --port <port>)`);
    if (code === 'EACCES') throw new CliError(`port ${port} needs privileges (pass --port <port>)`);
    throw error;
  }
}

/**
 * Resolves at the first SIGINT or SIGTERM, for a graceful stop. A second one exits at once: the jobs it
 * interrupts are still in the queue and run again at the next start.
 */
function untilSignal(
  logger: Logger,
  worker: { readonly running: number },
  release: () => void,
): Promise<void> {
  return new Promise((resolveStop) => {
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
}
