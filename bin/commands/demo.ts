// `ferry demo`: Ferry on this machine with nothing to configure (what `npm start` runs when no configuration is
// given or found). The demo's cluster, Git server and example come from `demo/`; Ferry itself is `ferry serve`,
// run in this process on the demo's configuration, so the demo runs exactly the local mode.
import { setTimeout as sleep } from 'node:timers/promises';
import { APP, ENVIRONMENTS } from '../../demo/config.ts';
import { type Demo, DemoBusy, DemoStopped, startDemo } from '../../demo/demo.ts';
import { exampleCommands, nextRelease } from '../../demo/repository.ts';
import { createLogger, type Logger } from '../../functions/adapters/local/logger.ts';
import { runningServer } from '../../functions/adapters/local/server-file.ts';
import type { EnvironmentStatus, StatusReport } from '../../functions/adapters/local/status.ts';
import { CliError, err, integer, oneOf, out, parse, printHelp, usage } from '../cli.ts';
import { run as serve } from './serve.ts';

export const help = usage(
  'ferry demo [options]',
  `Starts Ferry's demo, with nothing to configure: a Kubernetes API server with etcd (built once from the Go
module proxy, about 3.5 minutes on 2 cores, then cached), a Git server holding an example app with two
environments (staging follows main, production follows tags v*), and the local mode (\`ferry serve\`) deploying
it, told of each push by a signed webhook. It prints the status URL and the commands that change the example
and push it. \`npm start\` runs it when no configuration is given or found. Ctrl-C stops it all; started again
on the same directory, it goes on from where it stopped. It needs git, and Go for the first build.`,
  [
    ['--dir <dir>', "The demo's cluster data, repositories, working copy and state (default: .ferry/demo)"],
    ['-p, --port <port>', "Ferry's port (default: 8080; 0 picks a free one)"],
    ['--log-format <text|json>', 'One line per event as plain text (default) or JSON'],
  ],
);

/** How long the first deployments may take before the demo says how far they got. */
const FIRST_DEPLOY_TIMEOUT_MS = 180_000;

export async function run(args: readonly string[]): Promise<number> {
  const { values } = parse('demo', args, {
    dir: { type: 'string', default: '.ferry/demo' },
    port: { type: 'string', short: 'p' },
    'log-format': { type: 'string', default: 'text' },
  });
  if (values.help) return printHelp(help);
  const port = integer(values.port, 'port', 'demo', { min: 0, max: 65535 }) ?? 8080;
  const format = oneOf(values['log-format'], 'log-format', 'demo', ['text', 'json']);
  const logger = createLogger({ format });
  const signals = new DemoSignals();
  try {
    let demo: Demo;
    try {
      demo = await startDemo({ dir: values.dir, logger, signal: signals.aborted });
    } catch (error) {
      if (error instanceof DemoStopped) return 130;
      if (error instanceof DemoBusy) throw new CliError(error.message);
      throw error;
    }
    try {
      return await serveDemo(demo, { port, format, logger }, signals);
    } finally {
      signals.stopping();
      demo.deliverPushesTo(undefined);
      await demo.stop();
      logger.info('demo: stopped', { kept: demo.dir });
    }
  } finally {
    signals.dispose();
  }
}

/**
 * Ctrl-C and SIGTERM over the demo's life. While it starts, the first aborts the start (what started is
 * stopped) and a second exits at once. While `ferry serve` runs, its own handlers stop it gracefully; a signal
 * that came before it listened is sent again to reach them. While the demo stops, a signal exits at once. An
 * exit at once still ends the cluster's processes, as the process exits.
 */
class DemoSignals {
  readonly #controller = new AbortController();
  readonly aborted = this.#controller.signal;
  #phase: 'starting' | 'serving' | 'listening' | 'stopping' = 'starting';
  #pending: NodeJS.Signals | undefined;
  readonly #onSignal = (signal: NodeJS.Signals) => {
    if (this.#phase === 'listening') return;
    if (this.#phase === 'serving') {
      this.#pending = signal;
      return;
    }
    if (this.#phase === 'stopping' || this.aborted.aborted) process.exit(130);
    this.#controller.abort(signal);
  };

  constructor() {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  /** `ferry serve` is starting: its handlers are not there yet. */
  serving(): void {
    this.#phase = 'serving';
  }

  /** `ferry serve` listens, and its handlers with it. */
  listening(): void {
    this.#phase = 'listening';
    if (this.#pending !== undefined) process.kill(process.pid, this.#pending);
  }

  stopping(): void {
    this.#phase = 'stopping';
  }

  dispose(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

interface ServeSettings {
  readonly port: number;
  readonly format: 'text' | 'json';
  readonly logger: Logger;
}

/** Runs `ferry serve` on the demo until it stops; tells a person what to do once it deploys. */
async function serveDemo(demo: Demo, settings: ServeSettings, signals: DemoSignals): Promise<number> {
  signals.serving();
  const serving = serve([
    ...['--config', demo.configFile, '--secrets', demo.secretsFile, '--state-dir', demo.stateDir],
    ...['--port', String(settings.port), '--log-format', settings.format],
  ]);
  const settled = serving.then(
    () => true,
    () => true,
  );
  const url = await untilServing(demo.stateDir, settled);
  if (url !== undefined) {
    signals.listening();
    demo.deliverPushesTo(url);
    const report = await untilDeployed(url, settled);
    // With JSON logs, standard output stays JSON: the banner goes to standard error.
    const print = settings.format === 'json' ? err : out;
    for (const line of await banner(demo, url, report)) print(line);
  }
  return serving;
}

/** The local mode's URL once it answers, from the server file of its state directory; undefined if it stopped. */
async function untilServing(stateDir: string, stopped: Promise<boolean>): Promise<string | undefined> {
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  const deadline = Date.now() + 120_000;
  while (!done && Date.now() < deadline) {
    const url = runningServer(stateDir)?.url;
    if (url !== undefined && !url.endsWith(':0')) {
      const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) return url;
    }
    await sleep(100);
  }
  if (!done) throw new CliError(`the local mode did not answer within 2 minutes (its state: ${stateDir})`);
  return undefined;
}

/** The status once the example's environments are deployed (or failed), or as it is after the timeout. */
async function untilDeployed(url: string, stopped: Promise<boolean>): Promise<StatusReport | undefined> {
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  const deadline = Date.now() + FIRST_DEPLOY_TIMEOUT_MS;
  let report: StatusReport | undefined;
  while (!done && Date.now() < deadline) {
    report = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.json() as Promise<StatusReport>)
      .catch(() => report);
    const parts = ENVIRONMENTS.map(({ name }) => appPart(report, name));
    if (parts.every((part) => part !== undefined && settledPart(part))) return report;
    await sleep(250);
  }
  return report;
}

const appPart = (report: StatusReport | undefined, environment: string) =>
  report?.environments.find((e) => e.app === APP && e.environment === environment && e.part === 'app');

const settledPart = (part: EnvironmentStatus) =>
  (part.sync.status === 'Synced' && part.lastApplied !== null) || part.sync.status === 'Failed';

/** What a person is told once the demo runs: where to look, and the commands that change the example. */
async function banner(demo: Demo, url: string, report: StatusReport | undefined): Promise<string[]> {
  const page = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) }).then(
    (response) => response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html'),
    () => false,
  );
  const commands = exampleCommands(demo.example, await nextRelease(demo.example));
  const environments = ENVIRONMENTS.map(({ name, follows }) => {
    const part = appPart(report, name);
    const state =
      part?.sync.status === 'Synced' && part.lastApplied !== null
        ? `deployed ${part.lastApplied.commit.slice(0, 7)} (${part.lastApplied.ref.replace(/^refs\/(heads|tags)\//, '')})`
        : `${part?.sync.status ?? 'not deployed yet'}${part?.sync.message ? `: ${part.sync.message}` : ''}`;
    return `    ${name.padEnd(11)} follows ${follows.padEnd(8)} ${state}`;
  });
  return [
    '',
    `Ferry's demo is running: the example app "${APP}" in two environments of a local cluster.`,
    '',
    ...(page
      ? [`  Status page:  ${url}/`, `  Status JSON:  ${url}/status`]
      : [`  Status:       ${url}/status`]),
    ...environments,
    `  Example:      ${demo.example.dir} (pushes to ${demo.example.url})`,
    `  Cluster:      kube-apiserver ${demo.cluster.version}, kubeconfig ${demo.cluster.kubeconfig}`,
    '                (it runs no nodes: the demo marks each Deployment rolled out, no container runs)',
    '',
    'Change the example and push it: staging deploys it within seconds.',
    '',
    ...commands.change.map((command) => `  ${command}`),
    '',
    'Release it to production with a tag:',
    '',
    ...commands.release.map((command) => `  ${command}`),
    '',
    `Ctrl-C stops it all; started again, the demo goes on from where it stopped (its files: ${demo.dir}).`,
    '',
  ];
}
