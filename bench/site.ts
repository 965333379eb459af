// A Ferry install on the test bed, as the stack leaves one, for the benchmarks that run the functions: a
// repository of the test bed's Git server holding apps of 20 objects each, its webhook secret and Git token in
// moto's Secrets Manager, the state table, the FIFO deploy queue and the check queue in moto, and a cluster
// (the test bed's API server, by kubeconfig). Apps deploy into one namespace, their objects named after them,
// so that one stand-in for the deployment controller serves them all. Also: the functions' bundles run in
// fresh processes (bench/invoke-child.ts), as a cold Lambda runs them.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { type Config, type ConfigInput, parseConfig } from '../functions/core/config.ts';
import type { EnvironmentCheck } from '../functions/core/model/check.ts';
import type { KubeObject } from '../functions/core/objects.ts';
import { createDeployQueue, createStateTable } from '../test/support/aws.ts';
import { createTokenSecret } from '../test/support/deploy.ts';
import { GitWorkspace } from '../test/support/git.ts';
import { configMap, deployment, service, yaml } from '../test/support/manifests.ts';
import { simulateRollouts } from '../test/support/rollout.ts';
import { receiveMessages, sqsEvent } from '../test/support/sqs-worker.ts';
import { createNamespaces, testbed, uniqueName } from '../test/support/testbed.ts';
import { apiEvent, type Delivery, githubDelivery, githubPush } from '../test/support/webhooks.ts';
import { kubeconfigFile, ROOT, testbedCluster } from './support.ts';

/** Objects of one app: Deployments, Services and ConfigMaps in turn. */
export const APP_OBJECTS = 20;

/**
 * An app's objects at a revision, named after the app: a revision changes every Deployment's pod template and
 * every ConfigMap, as an image bump with its configuration does.
 */
export function appObjects(
  app: string,
  namespace: string,
  revision: number,
  count = APP_OBJECTS,
): KubeObject[] {
  const annotations = { 'ferry.bench/revision': String(revision) };
  const make = [
    (i: number) => deployment(`${app}-${i}`, 'nginx:1.27', annotations),
    (i: number) => service(`${app}-${i}`),
    (i: number) => configMap(`${app}-${i}`, { revision: String(revision), payload: 'x'.repeat(200) }),
  ];
  return Array.from({ length: count }, (_, n) => {
    const object = make[n % 3]?.(Math.floor(n / 3)) as KubeObject;
    return { ...object, metadata: { ...object.metadata, namespace } };
  });
}

export interface SiteOptions {
  /** Apps that deploy (one part each, environment `staging`, following `main`). */
  readonly apps: number;
  /** Parts on paper besides: apps of ten environments each that follow a branch nobody pushes. */
  readonly paperParts?: number;
  readonly objectsPerApp?: number;
  readonly reconcileJitterSeconds?: number;
  /** Each app's trigger names its own path, so that a push deploys only the apps it changed. */
  readonly ownPaths?: boolean;
}

export interface Site {
  readonly apps: readonly string[];
  readonly namespace: string;
  readonly config: Config;
  readonly table: string;
  readonly deployQueueUrl: string;
  readonly checkQueueUrl: string;
  readonly webhookSecret: string;
  readonly workspace: GitWorkspace;
  /** The variables the stack sets on the functions. */
  readonly env: Record<string, string>;
  /** Commits every app (or those given) at `revision`, not pushed yet; resolves the commit. */
  commit(revision: number, only?: readonly string[]): Promise<string>;
  /** Pushes the last commit to `main`. */
  publish(): Promise<void>;
  /** Commits every app at `revision` and pushes it; resolves the commit. */
  push(revision: number): Promise<string>;
  /** GitHub's signed delivery of a push of `commit` after `before` (changing the apps last committed). */
  githubDelivery(commit: string, before: string, ref?: string): Delivery;
  /** The same delivery as API Gateway hands it to the webhook function. */
  delivery(commit: string, before: string, ref?: string): APIGatewayProxyEventV2;
  /** The next messages of the deploy queue (waiting up to a second), as the event source hands them over. */
  receiveJobs(max?: number): Promise<SQSEvent>;
  receiveChecks(max?: number): Promise<SQSEvent>;
  /** An SQS event of checks for these apps, as the check queue would deliver them. */
  checkEvent(apps: readonly string[], tickId?: string): SQSEvent;
  /** The configuration and secrets files of the same install in the local mode (`ferry serve`, the CLI). */
  localFiles(): Promise<{ readonly configFile: string; readonly secretsFile: string }>;
  /** Plays the deployment controller in the site's namespace until stopped. */
  rollouts(): { stop(): Promise<void> };
}

export async function createSite(options: SiteOptions): Promise<Site> {
  const run = uniqueName('s');
  const namespace = `${run}-apps`;
  const apps = Array.from({ length: options.apps }, (_, i) => `${run}-a${i}`);
  const webhookSecret = randomUUID();
  const webhookSecretName = uniqueName('ferry/webhook');
  const sqs = new SQSClient({});
  const { api } = testbedCluster();
  const [workspace, table, deployQueueUrl, check, tokenSecret, kubeconfig] = await Promise.all([
    GitWorkspace.create(`bench/${run}`),
    createStateTable(),
    createDeployQueue(),
    sqs.send(new CreateQueueCommand({ QueueName: uniqueName('ferry-checks') })),
    createTokenSecret(),
    kubeconfigFile(),
    new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: webhookSecretName, SecretString: webhookSecret }),
    ),
    createNamespaces(api, [namespace]),
  ]);
  api.close();
  const checkQueueUrl = check.QueueUrl ?? '';
  const environment = (name: string, branch: string, paths: string[] = []) => ({
    name,
    cluster: 'testbed',
    namespace,
    trigger: { branches: [branch], paths },
    healthTimeoutSeconds: 60,
  });
  const paperApps = Math.ceil((options.paperParts ?? 0) / 10);
  const config = parseConfig({
    repositories: [
      { name: 'site', url: workspace.url, provider: 'github', webhookSecret: webhookSecretName, tokenSecret },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [
      ...apps.map((app) => ({
        name: app,
        repository: 'site',
        path: `apps/${app}`,
        environments: [environment('staging', 'main', options.ownPaths ? [`apps/${app}/**`] : [])],
      })),
      ...Array.from({ length: paperApps }, (_, i) => ({
        name: `${run}-p${i}`,
        repository: 'site',
        path: `apps/${run}-p${i}`,
        environments: Array.from({ length: 10 }, (_, e) => environment(`env-${e}`, 'release')),
      })),
    ],
    settings: { reconcileJitterSeconds: options.reconcileJitterSeconds ?? 0 },
  } satisfies ConfigInput);
  let changed: readonly string[] = apps;
  const site: Site = {
    apps,
    namespace,
    config,
    table,
    deployQueueUrl,
    checkQueueUrl,
    webhookSecret,
    workspace,
    env: {
      FERRY_CONFIG_JSON: JSON.stringify(config),
      FERRY_TABLE_NAME: table,
      FERRY_QUEUE_URL: deployQueueUrl,
      FERRY_CHECK_QUEUE_URL: checkQueueUrl,
    },
    commit(revision, only = apps) {
      changed = only;
      const files = Object.fromEntries(
        only.map((app) => [
          `apps/${app}/app.yaml`,
          yaml(...appObjects(app, namespace, revision, options.objectsPerApp)),
        ]),
      );
      return workspace.commit(files, `revision ${revision}`);
    },
    publish: () => workspace.push(),
    async push(revision) {
      const commit = await site.commit(revision);
      await site.publish();
      return commit;
    },
    githubDelivery(commit, before, ref = 'refs/heads/main') {
      const paths = changed.map((app) => `apps/${app}/app.yaml`);
      const payload = { ...githubPush({ url: workspace.url, commit, before, paths }), ref };
      return githubDelivery(payload, { secret: webhookSecret });
    },
    delivery(commit, before, ref) {
      return apiEvent(site.githubDelivery(commit, before, ref));
    },
    async receiveJobs(max = 1) {
      return sqsEvent(deployQueueUrl, await receiveMessages(deployQueueUrl, { max, waitSeconds: 1 }));
    },
    async receiveChecks(max = 5) {
      return sqsEvent(checkQueueUrl, await receiveMessages(checkQueueUrl, { max, waitSeconds: 1 }));
    },
    checkEvent(of, tickId = randomUUID()) {
      const scheduledAt = new Date().toISOString();
      return sqsEvent(
        checkQueueUrl,
        of.map((app) => {
          const check: EnvironmentCheck = { app, environment: 'staging', part: 'app', tickId, scheduledAt };
          return { MessageId: randomUUID(), ReceiptHandle: randomUUID(), Body: JSON.stringify(check) };
        }),
      );
    },
    async localFiles() {
      const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-local-'));
      const configFile = join(dir, 'ferry.config.yaml');
      const secretsFile = join(dir, 'secrets.yaml');
      await writeFile(configFile, yaml(config));
      await writeFile(
        secretsFile,
        yaml({ [tokenSecret]: testbed().gitToken, [webhookSecretName]: webhookSecret }),
        { mode: 0o600 },
      );
      return { configFile, secretsFile };
    },
    rollouts() {
      const { api: own } = testbedCluster();
      const simulated = simulateRollouts(own, namespace);
      return {
        async stop() {
          await simulated.stop();
          own.close();
        },
      };
    },
  };
  return site;
}

/** A scheduled tick, as EventBridge sends it. */
export function tickEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
}

/** What each function's context says is left of its time at the start: its timeout in the stack. */
const REMAINING_MS: Record<string, number> = {
  webhook: 10_000,
  worker: 900_000,
  scheduler: 60_000,
  reconciler: 300_000,
};

/** What bench/invoke-child.ts reports of a bundle's cold import and first invocation. */
export interface Invocation {
  /** Time to import the bundle, from the first line of the child's code. */
  readonly importMs: number;
  /** The first invocation, against the test bed. */
  readonly invokeMs: number;
  /** From the process's start to the end of the invocation. */
  readonly processMs: number;
  readonly maxRssKb: number;
  /** What the handler answered. */
  readonly result: unknown;
  /** What the function wrote to stdout and stderr: its logs and metrics. */
  readonly logBytes: number;
}

let invokeChild: Promise<string> | undefined;

/**
 * bench/invoke-child.ts as plain JavaScript, written once a run: Lambda's runtime runs no TypeScript, and Node's
 * type stripping of a .ts entry would load its TypeScript parser (some 17 MB resident) into the process measured.
 */
function invokeChildScript(): Promise<string> {
  invokeChild ??= (async () => {
    const script = join(ROOT, '.bench', 'invoke-child.mjs');
    await mkdir(join(ROOT, '.bench'), { recursive: true });
    const { transform } = await import('esbuild');
    const source = await readFile(join(ROOT, 'bench/invoke-child.ts'), 'utf8');
    await writeFile(script, (await transform(source, { loader: 'ts', format: 'esm' })).code);
    return script;
  })();
  return invokeChild;
}

/**
 * Imports a bundle in a fresh Node process (as Lambda's Node runtime does, the process started as the stack
 * starts the function: its NODE_OPTIONS and malloc settings) and invokes its handler once with `event`, the
 * site's variables set.
 */
export async function invokeBundle(
  file: string,
  name: string,
  event: unknown,
  env: Record<string, string>,
): Promise<Invocation> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-invoke-'));
  const input = join(dir, 'event.json');
  const output = join(dir, 'result.json');
  await writeFile(input, JSON.stringify({ event, name, remainingMs: REMAINING_MS[name] ?? 60_000 }));
  // Imported here: the stack's modules load aws-cdk-lib, which most benchmarks never need.
  const [{ processEnvironment }, { WORKER_PROCESS }] = await Promise.all([
    import('../lib/ferry-function.ts'),
    import('../lib/deploy-pipeline.ts'),
  ]);
  const child = spawn(process.execPath, [await invokeChildScript(), file, input, output], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...processEnvironment(name === 'worker' ? WORKER_PROCESS : {}),
      ...env,
      POWERTOOLS_SERVICE_NAME: `ferry-${name}`,
      POWERTOOLS_METRICS_NAMESPACE: 'Ferry',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    },
  });
  let logBytes = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
    stderr += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the ${name} bundle failed (exit ${code}): ${stderr.slice(-2000)}`);
  return { ...(JSON.parse(await readFile(output, 'utf8')) as Omit<Invocation, 'logBytes'>), logBytes };
}
