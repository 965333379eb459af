// Cold starts: each function's bundle as the stack builds it (size, the packages it is made of, its cold import
// in fresh processes, and its first invocation against the test bed in a fresh process: a push through the
// webhook, its job through the worker, a tick through the scheduler, a check through the reconciler), and the
// CLI's `ferry --help` and `ferry status` as a user runs them, on the pinned Node 24 and on an older Node on the
// PATH (a machine's Node 20).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOAD_LOG, loadedModules, olderNode } from '../test/support/cli-start.ts';
import { createSite, type Invocation, invokeBundle, tickEvent } from './site.ts';
import {
  type BuiltBundle,
  bundleFunction,
  FUNCTION_ENTRIES,
  type FunctionName,
  kb,
  mb,
  median,
  ms,
  pick,
  quickNote,
  ROOT,
  runNode,
  table,
  verdict,
} from './support.ts';

const RUNS = pick(9, 3);
const GOALS: Partial<Record<FunctionName | 'cli', { bytes?: number; importMs: number }>> = {
  webhook: { bytes: 300 * 1024, importMs: 150 },
  worker: { bytes: 1024 * 1024, importMs: 300 },
  reconciler: { bytes: 1024 * 1024, importMs: 300 },
  cli: { importMs: 300 },
};
const NAMES: readonly FunctionName[] = ['webhook', 'worker', 'scheduler', 'reconciler'];

/** Milliseconds to import a module in fresh Node processes (median of RUNS), with the given Node options. */
async function coldImport(specifier: string, nodeOptions: readonly string[] = []): Promise<number[]> {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { code, stdout, stderr } = await runNode([...nodeOptions, '--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    if (code !== 0) throw new Error(`importing ${specifier} failed: ${stderr}`);
    times.push(Number(stdout));
  }
  return times;
}

const site = await createSite({ apps: 1 });
const rollouts = site.rollouts();
const bundles = {} as Record<FunctionName, BuiltBundle>;
for (const name of NAMES)
  bundles[name] = await bundleFunction(FUNCTION_ENTRIES[name], name, site.env.FERRY_CONFIG_JSON);

const imports = {} as Record<FunctionName, { mapped: number; plain: number }>;
for (const name of NAMES) {
  const url = pathToFileURL(bundles[name].file).href;
  imports[name] = {
    mapped: median(await coldImport(url, ['--enable-source-maps'])),
    plain: median(await coldImport(url)),
  };
}
const clientNode = median(await coldImport('@kubernetes/client-node'));

// First invocations, each in a fresh process, one after another as a push and a tick flow through the stack.
const first = {} as Record<FunctionName, Invocation>;
const commit = await site.push(1);
first.webhook = await invokeBundle(
  bundles.webhook.file,
  'webhook',
  site.delivery(commit, '0'.repeat(40)),
  site.env,
);
const job = await site.receiveJobs();
if (job.Records.length !== 1) throw new Error(`the webhook enqueued ${job.Records.length} jobs, not 1`);
first.worker = await invokeBundle(bundles.worker.file, 'worker', job, site.env);
first.scheduler = await invokeBundle(bundles.scheduler.file, 'scheduler', tickEvent(), site.env);
const check = await site.receiveChecks(1);
if (check.Records.length !== 1)
  throw new Error(`the scheduler enqueued ${check.Records.length} checks, not 1`);
first.reconciler = await invokeBundle(bundles.reconciler.file, 'reconciler', check, site.env);
await rollouts.stop();
const failures = (first.worker.result as { batchItemFailures?: unknown[] }).batchItemFailures ?? [];
if (failures.length > 0) throw new Error('the worker failed its job');

console.log(
  `functions: esbuild as the stack bundles them (ESM, minified, source map, node24, @aws-sdk/* left to the runtime); ` +
    `cold import: median of ${RUNS} fresh processes, with --enable-source-maps as the stack sets NODE_OPTIONS ` +
    "(and without); first invocation: a fresh process's import and first call of the handler against the test bed " +
    '(moto, the Git server, the API server), its answer included',
);
table([
  ['', 'bundle', 'goal', 'cold import', 'no source maps', 'goal', 'first invocation', 'peak memory'],
  ...NAMES.map((name) => {
    const goal = GOALS[name];
    return [
      name,
      kb(bundles[name].bytes),
      goal?.bytes === undefined ? '' : `< ${kb(goal.bytes)}: ${verdict(bundles[name].bytes < goal.bytes)}`,
      ms(imports[name].mapped),
      ms(imports[name].plain),
      goal === undefined ? '' : `< ${goal.importMs} ms: ${verdict(imports[name].mapped < goal.importMs)}`,
      `${ms(first[name].importMs)} + ${ms(first[name].invokeMs)}`,
      mb(first[name].maxRssKb * 1024),
    ];
  }),
]);
for (const name of NAMES)
  console.log(
    `  ${name}: ${bundles[name].packages
      .slice(0, 6)
      .map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`)
      .join(', ')}`,
  );
console.log(`@kubernetes/client-node alone: ${ms(clientNode)} to import in a fresh process`);

// The CLI as a user runs it: the package's bin (bin/launch.mjs) on the pinned Node 24, as `npx ferry` runs it,
// and on the machine's older Node when there is one (the launcher then starts the pinned Node). Each command and
// Node gets a compile cache of its own: the first run fills it, the median is of the runs after it.
const launcher = join(ROOT, 'bin/launch.mjs');
const older = olderNode();
const nodes = [{ name: `Node ${process.versions.node}`, node: process.execPath }];
if (older !== undefined) {
  const version = (await runNode(['-p', 'process.versions.node'], { node: older })).stdout.trim();
  nodes.push({ name: `Node ${version}`, node: older });
}
const { configFile, secretsFile } = await site.localFiles();
const scratch = await mkdtemp(join(tmpdir(), 'ferry-bench-cli-'));
const stateDir = join(scratch, 'state');
const local = ['--config', configFile, '--state-dir', stateDir, '--secrets', secretsFile];
const status = ['status', '--config', configFile, '--state-dir', stateDir];
const deployRollouts = site.rollouts();
const deployed = await runNode([launcher, 'deploy', site.apps[0] ?? '', 'staging', 'main', ...local]);
await deployRollouts.stop();
if (deployed.code !== 0) throw new Error(`ferry deploy failed: ${deployed.stderr}`);
let caches = 0;
const cli = async (node: string, args: readonly string[]) => {
  const env = { ...process.env, NO_COLOR: '1', NODE_COMPILE_CACHE: join(scratch, `cache-${caches++}`) };
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const result = await runNode([launcher, ...args], { env, node });
    if (result.code !== 0) throw new Error(`ferry ${args.join(' ')} failed: ${result.stderr}`);
    times.push(result.ms);
  }
  const [first = 0, ...later] = times;
  return { first, median: median(later) };
};
const cliGoal = GOALS.cli?.importMs ?? 0;
const rows: string[][] = [];
const starts: string[] = [];
for (const { name, node } of nodes) {
  const commands: [string, readonly string[]][] = [
    ['ferry --help', ['--help']],
    ['ferry status (local state, one part)', status],
  ];
  for (const [label, args] of commands) {
    const { first, median: later } = await cli(node, args);
    rows.push([`${label}, ${name}`, ms(later), ms(first), `< ${cliGoal} ms: ${verdict(later < cliGoal)}`]);
  }
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push((await runNode(['-e', '0'], { node })).ms);
  starts.push(`${name} ${ms(median(runs))}`);
}
// What a run of `ferry status` loads: Ferry's modules and the packages.
const statusRun = await runNode(['--import', LOAD_LOG, launcher, ...status], {
  env: { ...process.env, NO_COLOR: '1' },
});
const statusLoads = loadedModules(statusRun.stderr);
console.log(
  `\nthe CLI: wall time of \`node bin/launch.mjs …\` (the package's bin), median of ${RUNS} runs after a first ` +
    `that fills the compile cache; Node's own start included (\`node -e 0\`: ${starts.join(', ')})` +
    (older === undefined ? '; no older Node on the PATH' : ''),
);
table([['', 'wall time', 'first run', 'goal'], ...rows]);
console.log(
  `  ferry status loads ${statusLoads.own} of Ferry's modules and ${statusLoads.packages.length === 0 ? 'no package' : statusLoads.packages.join(', ')}`,
);
quickNote();
