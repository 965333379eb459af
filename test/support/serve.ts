// `ferry serve` as a person runs it, for the tests of the local mode and its status page: a site (a fresh app
// with one environment, its repository on the test bed's Git server, a configuration file, a secrets file and a
// state directory) and the server as a child process, its JSON log lines parsed. Every site and process a test
// file makes is removed and killed when the file's tests end.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FERRY } from './cli.ts';
import { stagingApp } from './deploy.ts';
import { GitWorkspace } from './git.ts';
import { yaml } from './manifests.ts';
import { testbed, uniqueName, writeTestbedKubeconfig } from './testbed.ts';

const children = new Set<ChildProcess>();
const cleanup: string[] = [];
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

export interface ServeSite {
  readonly app: string;
  readonly namespace: string;
  readonly workspace: GitWorkspace;
  readonly dir: string;
  readonly configFile: string;
  readonly stateDir: string;
  readonly secretsFile: string;
}

export interface SiteOptions {
  /** The repository's webhook secret's name; its value is the test's to set (file or variable). */
  readonly webhookSecret: string;
  /** The Git token's secret name: the secrets file holds the test bed's token under it. */
  readonly tokenSecret: string;
  /** More secrets for the secrets file. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Settings of the staging environment. */
  readonly environment?: Record<string, unknown>;
  /** Repositories beside the site's own. */
  readonly repositories?: readonly Record<string, unknown>[];
}

/** A fresh app with one environment, its repository, a configuration file and a state directory. */
export async function serveSite(options: SiteOptions): Promise<ServeSite> {
  const app = uniqueName('app');
  const namespace = uniqueName('ns');
  const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-'));
  cleanup.push(dir);
  const [workspace, kubeconfig] = await Promise.all([
    GitWorkspace.create(`tests/${app}`),
    writeTestbedKubeconfig(),
  ]);
  cleanup.push(workspace.dir, kubeconfig);
  const { webhookSecret, tokenSecret } = options;
  const configFile = join(dir, 'ferry.config.yaml');
  const site = { name: 'site', url: workspace.url, provider: 'github', webhookSecret, tokenSecret };
  await writeFile(
    configFile,
    yaml({
      repositories: [site, ...(options.repositories ?? [])],
      clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
      apps: [stagingApp({ app, repository: 'site', namespace, environment: options.environment ?? {} })],
      settings: { reconcileJitterSeconds: 0 },
    }),
  );
  const secretsFile = join(dir, 'secrets.yaml');
  await writeFile(secretsFile, yaml({ ...options.secrets, [tokenSecret]: testbed().gitToken }));
  return { app, namespace, workspace, dir, configFile, stateDir: join(dir, 'state'), secretsFile };
}

/** The options `ferry serve`, `deploy` and `resume` need to find the site and its state. */
export const siteOptions = (s: ServeSite): string[] => [
  '--config',
  s.configFile,
  '--state-dir',
  s.stateDir,
  '--secrets',
  s.secretsFile,
];

/** A running `ferry serve`, its log lines parsed. */
export class ServeProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  url = '';

  constructor(child: ChildProcess) {
    this.child = child;
  }

  /** Starts `ferry serve` on the site on a free port, and waits until it says it started. */
  static async start<T extends ServeProcess>(
    this: new (
      child: ChildProcess,
    ) => T,
    s: ServeSite,
    extra: readonly string[] = [],
    env = process.env,
  ): Promise<T> {
    const child = spawn(process.execPath, [FERRY, 'serve', ...siteOptions(s), '--port', '0', ...extra], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const server = new this(child);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') server.logs.push(JSON.parse(line));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      server.stderr += chunk.toString('utf8');
    });
    const started = await server.waitForLog((l) => l.message === 'ferry local mode started', 60_000);
    server.url = String(started.url);
    return server;
  }

  async waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.logs.find(predicate);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(
      `no such log line; logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`,
    );
  }

  /** Sends the signal (Ctrl-C is SIGINT) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = (await exited) as [number | null];
    return { code, ms: Date.now() - started };
  }
}
