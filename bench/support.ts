// Shared by the benchmarks: the run's mode, bundles of generated objects and their namespaces, the test bed's
// cluster (directly or through a latency proxy), kubectl and Ferry's engine in processes of their own, request
// counts at the API server's client and at moto, the functions' bundles as the stack builds them, statistics
// and side-by-side tables.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { KubernetesApi } from '../functions/adapters/kubernetes/api-client.ts';
import { KubernetesCluster } from '../functions/adapters/kubernetes/kubernetes-cluster.ts';
import { layerManifestTools, layerToolPaths } from '../functions/adapters/tools/layer-tools.ts';
import { ClusterApiError } from '../functions/core/errors.ts';
import type { KubeObject } from '../functions/core/objects.ts';
import { configMap, deployment, service, yaml } from '../test/support/manifests.ts';
import {
  createNamespaces,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../test/support/testbed.ts';
import type { EngineChildResult } from './requests.ts';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..');

/** `npm run bench -- --quick`: small counts and fewer set-ups, for development; never figures to publish. */
export const QUICK = process.env.FERRY_BENCH_QUICK === '1';
export const pick = <T>(full: T, quick: T): T => (QUICK ? quick : full);

// ---------------------------------------------------------------------------------------------------------
// Objects

/**
 * `perNamespace` objects in each namespace: Deployments, Services and ConfigMaps in turn. A `revision` changes
 * every Deployment's pod template and every ConfigMap, as an image bump with its configuration does.
 */
export function bundle(namespaces: readonly string[], perNamespace: number, revision = 0): KubeObject[] {
  const annotations = revision === 0 ? {} : { 'ferry.bench/revision': String(revision) };
  const make = [
    (i: number) => deployment(`app-${i}`, 'nginx:1.27', annotations),
    (i: number) => service(`app-${i}`),
    (i: number) =>
      configMap(`app-${i}`, { index: String(i), revision: String(revision), payload: 'x'.repeat(200) }),
  ];
  return namespaces.flatMap((namespace) =>
    Array.from({ length: perNamespace }, (_, n) => {
      const object = make[n % 3]?.(Math.floor(n / 3)) as KubeObject;
      return { ...object, metadata: { ...object.metadata, namespace } };
    }),
  );
}

/** Writes a bundle as one YAML file per namespace, as a repository would hold it. */
export async function writeBundle(objects: readonly KubeObject[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  const byNamespace = Map.groupBy(objects, (o) => o.metadata.namespace ?? '');
  for (const [namespace, members] of byNamespace)
    await writeFile(join(dir, `${namespace}.yaml`), yaml(...members));
  return dir;
}

export function testbedCluster(kubeConfig: KubeConfig = testbedKubeConfig()): {
  api: KubernetesApi;
  cluster: KubernetesCluster;
} {
  const api = new KubernetesApi(kubeConfig);
  return { api, cluster: new KubernetesCluster(api) };
}

/** One tool's copy of a bundle: its namespaces (created), its objects and their files. */
export interface BundleSet {
  readonly namespaces: readonly string[];
  readonly objects: readonly KubeObject[];
  readonly dir: string;
}

/** The same bundle once per name (`ferry`, `kubectl`, ...), each in namespaces of its own, created and written. */
export async function bundleSets<N extends string>(
  api: KubernetesApi,
  run: string,
  names: readonly N[],
  namespaces: number,
  perNamespace: number,
): Promise<Record<N, BundleSet>> {
  const sets = {} as Record<N, BundleSet>;
  for (const name of names) {
    const own = Array.from({ length: namespaces }, (_, i) => `${run}-${name}-${i}`);
    await createNamespaces(api, own);
    const objects = bundle(own, perNamespace);
    sets[name] = { namespaces: own, objects, dir: await writeBundle(objects) };
  }
  return sets;
}

/**
 * Deletes the objects of the sets from the API server once measured. The test bed runs no controllers, so a
 * namespace is never emptied by its deletion; and every Service left behind makes the next one's cluster IP cost
 * the API server more CPU (4 ms with none, 29 ms with 8,000), which would tilt each run against the tools that
 * run after it.
 */
export async function removeSets(api: KubernetesApi, sets: readonly BundleSet[]): Promise<void> {
  await Promise.all(
    sets.flatMap((set) =>
      set.objects.map((object) =>
        api.request({ method: 'DELETE', path: objectPath(object) }).catch((error: unknown) => {
          if (!(error instanceof ClusterApiError && error.status === 404)) throw error;
        }),
      ),
    ),
  );
}

/** The API path of each kind the bench makes. */
const API_PATHS: Readonly<Record<string, string>> = {
  Deployment: '/apis/apps/v1',
  Service: '/api/v1',
  ConfigMap: '/api/v1',
};

function objectPath({ kind, metadata }: KubeObject): string {
  const group = API_PATHS[kind];
  if (group === undefined) throw new Error(`the bench makes no ${kind}`);
  return `${group}/namespaces/${metadata.namespace}/${kind.toLowerCase()}s/${metadata.name}`;
}

/**
 * The same bundle twice, in namespaces of its own for Ferry and for kubectl, written as files: the set-up of a
 * side-by-side run.
 */
export async function sideBySide(prefix: string, namespaces: number, perNamespace: number) {
  const run = uniqueName(prefix);
  const { api, cluster } = testbedCluster();
  const sets = await bundleSets(api, run, ['ferry', 'kubectl'], namespaces, perNamespace);
  return {
    run,
    ours: sets.ferry.namespaces,
    theirs: sets.kubectl.namespaces,
    api,
    cluster,
    objects: sets.ferry.objects,
    tools: await layerToolPaths(),
    renderer: await layerManifestTools(),
    ourDir: sets.ferry.dir,
    theirDir: sets.kubectl.dir,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The API server: through a latency proxy, kubeconfigs for it, and counted requests

/** A kubeconfig file for the test bed's API server, reached at `server` (default: directly). */
export async function kubeconfigFile(server?: string): Promise<string> {
  const file = await writeTestbedKubeconfig();
  if (server === undefined) return file;
  const config = load(await readFile(file, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const { cluster } of config.clusters) cluster.server = server;
  await writeFile(file, yaml(config), { mode: 0o600 });
  return file;
}

export function kubeConfigOf(file: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(file);
  return config;
}

/** A loopback TCP proxy, in a process of its own, that adds `rttMs` of round-trip time in front of `target`. */
export interface LatencyProxy {
  /** `https://127.0.0.1:<port>`: the API server as the proxy serves it (TLS passes through untouched). */
  readonly server: string;
  readonly rttMs: number;
  /** The proxy's process, whose CPU the bench counts. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startLatencyProxy(target: string, rttMs: number): Promise<LatencyProxy> {
  const { hostname, port } = new URL(target);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bench/latency-proxy.ts'), hostname, port, String(rttMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const listening = /^listening (\d+)/.exec(chunk.toString('utf8'));
  if (listening === null) throw new Error(`the latency proxy said: ${chunk.toString('utf8')}`);
  return {
    server: `https://127.0.0.1:${listening[1]}`,
    rttMs,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export {
  describeRequests,
  type EngineChildResult,
  peakRate,
  recordRequests,
  type SentRequest,
} from './requests.ts';

// ---------------------------------------------------------------------------------------------------------
// kubectl and Ferry's engine in processes of their own

let kubectlHome: Promise<string> | undefined;

/** kubectl's home for the whole run: its discovery cache, per server, is kept between its runs. */
const homeForKubectl = () => {
  kubectlHome ??= mkdtemp(join(tmpdir(), 'ferry-bench-kubectl-'));
  return kubectlHome;
};

export interface KubectlRun {
  readonly ms: number;
  /** Requests kubectl sent, from its own log of each (`-v=6`). */
  readonly requests: number;
  readonly stdout: string;
}

/**
 * Runs kubectl to completion with `-v=6`, which logs one line per request (the count is read from it); resolves
 * its wall time. Exit codes in `okCodes` (default 0) are success.
 */
export async function runKubectl(
  args: readonly string[],
  options: { readonly kubeconfig?: string; readonly okCodes?: readonly number[] } = {},
): Promise<KubectlRun> {
  const [{ kubectl }, kubeconfig, home] = await Promise.all([
    layerToolPaths(),
    options.kubeconfig ?? kubeconfigFile(),
    homeForKubectl(),
  ]);
  const { ms, code, stdout, stderr } = await runProcess(
    kubectl,
    [...args, '--kubeconfig', kubeconfig, '-v=6'],
    {
      env: { ...process.env, HOME: home },
    },
  );
  if (!(options.okCodes ?? [0]).includes(code ?? -1))
    throw new Error(`kubectl ${args.join(' ')} failed (exit ${code}): ${stderr.slice(-2000)}`);
  const requests = stderr
    .split('\n')
    .filter((line) =>
      /round_trippers.*"Response"|\b(?:GET|PATCH|POST|PUT|DELETE) https?:\/\/\S+ \d{3}/.test(line),
    ).length;
  return { ms, requests, stdout };
}

/** `kubectl apply --server-side` of a directory, as an operator or a CI job runs it. */
export const kubectlApply = (dir: string, kubeconfig?: string): Promise<KubectlRun> =>
  runKubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=kubectl-bench', '-R', '-f', dir],
    kubeconfig === undefined ? {} : { kubeconfig },
  );

/**
 * Renders and applies a directory with Ferry's engine in a fresh Node process, as the CLI does; `previous` names
 * a file holding the last inventory (a re-apply), `inventoryOut` one to write the new one to. Resolves what the
 * child reports (bench/engine-child.ts), with its wall time from spawn to exit.
 */
export async function freshEngineApply(options: {
  readonly dir: string;
  readonly environment: string;
  readonly kubeconfig: string;
  readonly previous?: string;
  readonly inventoryOut?: string;
}): Promise<EngineChildResult & { readonly wallMs: number }> {
  const started = performance.now();
  // Node's compile cache on from the start, where the CLI's launcher (bin/launch.mjs) keeps it: without it, the
  // TypeScript entry alone loads Node's type stripper (about 45 ms) before any module could turn the cache on.
  const child = spawn(process.execPath, [join(ROOT, 'bench/engine-child.ts'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache') },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`the engine's process failed (exit ${code})`);
  return { ...(JSON.parse(stdout) as EngineChildResult), wallMs };
}

// ---------------------------------------------------------------------------------------------------------
// AWS requests, counted at moto

/** One AWS API call that reached moto through the counter. */
export interface AwsCall {
  /** `dynamodb`, `sqs`, `secretsmanager`, `sns`, ... */
  readonly service: string;
  /** `Query`, `SendMessageBatch`, ... */
  readonly action: string;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** DynamoDB: read or write request units this call is billed, from the bytes on the wire (an upper bound). */
  readonly units: number;
  /** SQS: messages a send carried. */
  readonly messages: number;
  /** SQS: the FIFO message groups of a send's messages. */
  readonly groups: readonly string[];
}

/**
 * An HTTP proxy in front of moto that records each AWS call (service and action from the `X-Amz-Target`
 * header or the query protocol's `Action`, bytes each way). Point `AWS_ENDPOINT_URL` at `endpoint` before any
 * client is made.
 */
export interface AwsCounter {
  readonly endpoint: string;
  take(): AwsCall[];
  stop(): Promise<void>;
}

export async function startAwsCounter(
  options: {
    readonly moto?: string;
    /** Answer SQS sends here, at once, instead of moto: a stand-in for SQS that measures the sender alone. */
    readonly answerSends?: boolean;
  } = {},
): Promise<AwsCounter> {
  const target = new URL(options.moto ?? process.env.AWS_ENDPOINT_URL ?? '');
  let calls: AwsCall[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const sent = options.answerSends === true ? answerSend(incoming.headers, body) : undefined;
      if (sent !== undefined) {
        calls.push(awsCall(incoming.headers, body, sent));
        outgoing.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        outgoing.end(sent);
        return;
      }
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const response = Buffer.concat(parts);
            calls.push(awsCall(incoming.headers, body, response));
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(response);
          });
        },
      );
      upstream.on('error', (error) => {
        outgoing.writeHead(502);
        outgoing.end(String(error));
      });
      upstream.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** SQS's answer to a SendMessageBatch (JSON protocol): every entry accepted, with the body's MD5 the SDK checks. */
function answerSend(headers: IncomingHttpHeaders, body: Buffer): Buffer | undefined {
  if (headers['x-amz-target'] !== 'AmazonSQS.SendMessageBatch') return undefined;
  const { Entries = [] } = JSON.parse(body.toString('utf8')) as {
    Entries?: { Id: string; MessageBody: string }[];
  };
  const Successful = Entries.map(({ Id, MessageBody }) => ({
    Id,
    MessageId: randomUUID(),
    MD5OfMessageBody: createHash('md5').update(MessageBody).digest('hex'),
  }));
  return Buffer.from(JSON.stringify({ Successful, Failed: [] }));
}

function awsCall(headers: IncomingHttpHeaders, body: Buffer, response: Buffer): AwsCall {
  const targetHeader = String(headers['x-amz-target'] ?? '');
  const signed = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ''));
  const service = signed?.[1] ?? 'unknown';
  const action =
    targetHeader.split('.').pop() ||
    new URLSearchParams(body.toString('utf8')).get('Action') ||
    String(headers['x-amz-target'] ?? 'unknown');
  let units = 0;
  let messages = 0;
  let groups: string[] = [];
  if (service === 'dynamodb') units = dynamoDbUnits(action, body, response);
  if (service === 'sqs' && action.startsWith('SendMessage')) {
    const request = JSON.parse(body.toString('utf8') || '{}') as {
      Entries?: { MessageGroupId?: string }[];
      MessageGroupId?: string;
    };
    const entries = request.Entries ?? [request];
    messages = entries.length;
    groups = entries.flatMap((e) => (e.MessageGroupId === undefined ? [] : [e.MessageGroupId]));
  }
  return {
    service,
    action,
    requestBytes: body.length,
    responseBytes: response.length,
    units,
    messages,
    groups,
  };
}

/**
 * Request units DynamoDB on demand bills a call, estimated from the JSON on the wire (which is larger than the
 * item sizes DynamoDB counts, so these are upper bounds): a write unit per KB written (two in a transaction),
 * a read unit per 4 KB read strongly consistent (half eventually consistent; two in a transaction).
 */
function dynamoDbUnits(action: string, body: Buffer, response: Buffer): number {
  const request = JSON.parse(body.toString('utf8') || '{}') as {
    ConsistentRead?: boolean;
    TransactItems?: Record<string, unknown>[];
  };
  const kb = (value: unknown, size: number) => Math.max(1, Math.ceil(JSON.stringify(value).length / size));
  switch (action) {
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return kb(JSON.parse(body.toString('utf8')), 1024);
    case 'TransactWriteItems':
      return (request.TransactItems ?? []).reduce((sum, item) => sum + 2 * kb(item, 1024), 0);
    case 'GetItem':
    case 'Query': {
      const units = kb(JSON.parse(response.toString('utf8') || '{}'), 4096);
      return request.ConsistentRead === true ? units : units / 2;
    }
    default:
      return 0;
  }
}

/** Calls summed by `service action`, e.g. `{ 'dynamodb Query': 3 }`. */
export function countCalls(
  calls: readonly AwsCall[],
): Map<string, { calls: number; units: number; messages: number }> {
  const counts = new Map<string, { calls: number; units: number; messages: number }>();
  for (const call of calls) {
    const key = `${call.service} ${call.action}`;
    const count = counts.get(key) ?? { calls: 0, units: 0, messages: 0 };
    counts.set(key, {
      calls: count.calls + 1,
      units: count.units + call.units,
      messages: count.messages + call.messages,
    });
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// What this process writes (the handlers' logs), counted and kept off the bench's output

/** Swallows what this process writes to stdout and stderr until `restore()`, counting its bytes and lines. */
export function captureOutput(): {
  readonly bytes: () => number;
  readonly text: () => string;
  restore(): void;
} {
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const kept: string[] = [];
  const swallow = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    kept.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  };
  process.stdout.write = swallow as typeof process.stdout.write;
  process.stderr.write = swallow as typeof process.stderr.write;
  return {
    bytes: () => kept.reduce((sum, text) => sum + Buffer.byteLength(text), 0),
    text: () => kept.join(''),
    restore() {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The functions' bundles, as the stack builds them

export type FunctionName = 'webhook' | 'worker' | 'scheduler' | 'reconciler';

export interface BuiltBundle {
  readonly file: string;
  readonly bytes: number;
  /** Bytes in the bundle by package (`ferry` for the project's own code), largest first. */
  readonly packages: readonly (readonly [string, number])[];
}

/**
 * Bundles a handler as FerryFunction does (NodejsFunction: esbuild, ESM, minified, source map, target node24,
 * AWS SDK v3 left to the runtime, the configuration defined in), into `.bench/<name>/index.mjs`, where the AWS
 * SDK resolves from the project's node_modules as it does from the Lambda runtime's.
 */
export async function bundleFunction(entry: string, name: string, configJson = '{}'): Promise<BuiltBundle> {
  const [{ build }, { ESM_REQUIRE_BANNER }] = await Promise.all([
    import('esbuild'),
    import('../lib/ferry-function.ts'),
  ]);
  const outdir = join(ROOT, '.bench', name);
  await mkdir(outdir, { recursive: true });
  const file = join(outdir, 'index.mjs');
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    banner: { js: ESM_REQUIRE_BANNER },
    define: { 'process.env.FERRY_CONFIG_JSON': JSON.stringify(configJson) },
    metafile: true,
    logLevel: 'error',
  });
  const output =
    result.metafile.outputs[`.bench/${name}/index.mjs`] ??
    Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (output === undefined) throw new Error('esbuild wrote no bundle');
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'ferry';
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return { file, bytes: output.bytes, packages: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

/** The handlers the stack deploys, by function. */
export const FUNCTION_ENTRIES: Readonly<Record<FunctionName, string>> = {
  webhook: 'functions/webhook/handler.ts',
  worker: 'functions/worker/handler.ts',
  scheduler: 'functions/scheduler/handler.ts',
  reconciler: 'functions/reconciler/handler.ts',
};

/**
 * Runs `node <args>` (this Node, or the one `options.node` names) to completion in a fresh process; resolves its
 * wall time and output.
 */
export function runNode(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly node?: string } = {},
): Promise<ProcessRun> {
  return runProcess(options.node ?? process.execPath, args, options);
}

interface ProcessRun {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion in a fresh process; resolves its wall time, exit code and output. */
async function runProcess(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string },
): Promise<ProcessRun> {
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { ms: performance.now() - started, code, stdout, stderr };
}

// ---------------------------------------------------------------------------------------------------------
// Statistics and tables

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** The nearest-rank percentile `p` (0..100) of the values. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

export const ms = (value: number) => `${value.toFixed(0)} ms`;
export const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
/** `met` or `NOT MET`, for a goal column. */
export const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

/** The figures of a quick run are not to be published: says so under its tables. */
export function quickNote(): void {
  if (QUICK) console.log('(quick mode: small counts, for development only)');
}
