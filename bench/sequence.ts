// Runs each benchmark file in its own Node process, one after another, so none disturbs another's timing, each
// bounded in time. Prints the run's set-up first (machine, versions, date) and, at the end, how long each file
// took, the machine's load average during the run, sampled every few seconds, and the CPU the machine spent on
// work other than the bench's: figures measured while other work loads the machine are not to be published.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { layerToolPaths } from '../functions/adapters/tools/layer-tools.ts';
import { MOTO_VERSION } from '../test/testbed/aws.ts';
import { run } from '../test/testbed/process.ts';
import { allProcessTimes, machineCpuSeconds } from './cpu.ts';
import { ms, QUICK, table, testbedCluster } from './support.ts';

/** A file still running after this long is stopped and counted as failed. */
const FILE_TIMEOUT_MS = (QUICK ? 5 : 10) * 60_000;
/** Other work using at least this share of the cores makes the figures suspect. */
const BUSY_SHARE = 0.25;

async function printSetup(): Promise<void> {
  const { api } = testbedCluster();
  const [version, kubectl] = await Promise.all([
    api.request<{ gitVersion: string }>({ method: 'GET', path: '/version' }),
    layerToolPaths().then((tools) => run(tools.kubectl, ['version', '--client', '-o', 'json'])),
  ]);
  api.close();
  const cores = cpus();
  const kubectlVersion = (JSON.parse(kubectl) as { clientVersion: { gitVersion: string } }).clientVersion;
  table([
    ['set-up', ''],
    ['date', new Date().toISOString()],
    [
      'machine',
      `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(freemem() / 2 ** 30).toFixed(1)} GiB free), Linux ${release()}`,
    ],
    [
      'load average',
      loadavg()
        .map((l) => l.toFixed(2))
        .join(', '),
    ],
    ['Node.js', process.version],
    ['kube-apiserver', `${version.gitVersion} (with etcd, on loopback, sharing the cores)`],
    ['kubectl', kubectlVersion.gitVersion],
    ['moto', MOTO_VERSION],
    ['mode', QUICK ? 'quick (small counts, for development only)' : 'full'],
  ]);
}

/**
 * CPU seconds used so far by the bench's own processes: `npm run bench` (this process's parent), the test bed's
 * servers, this process and the benchmarks with their children (reaped children count in their parent's times).
 */
function ownCpuSeconds(): number {
  const all = allProcessTimes();
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.ppid) return true;
      p = all.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let seconds = 0;
  for (const [pid, times] of all) if (inTree(pid)) seconds += times.ownSeconds + times.childrenSeconds;
  return seconds;
}

/** Samples the one-minute load average until stopped; with the CPU the bench and the machine used meanwhile. */
async function sampleLoad(): Promise<{
  stop(): Promise<{ loads: number[]; ownCores: number; otherCores: number }>;
}> {
  const loads = [loadavg()[0] ?? 0];
  const started = { at: performance.now(), own: ownCpuSeconds(), all: machineCpuSeconds() };
  const timer = setInterval(() => loads.push(loadavg()[0] ?? 0), 5_000);
  return {
    async stop() {
      clearInterval(timer);
      const seconds = (performance.now() - started.at) / 1000;
      const own = ownCpuSeconds() - started.own;
      const all = machineCpuSeconds() - started.all;
      return { loads, ownCores: own / seconds, otherCores: Math.max(0, all - own) / seconds };
    },
  };
}

async function runFile(file: string): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', file], { stdio: 'inherit' });
  const timer = setTimeout(() => {
    console.log(`${file}: still running after ${FILE_TIMEOUT_MS / 60_000} minutes; stopped`);
    child.kill('SIGKILL');
  }, FILE_TIMEOUT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, ms: performance.now() - started };
}

await printSetup();
const load = await sampleLoad();
const results: [string, { code: number | null; ms: number }][] = [];
for (const file of process.argv.slice(2)) {
  console.log(`\n## ${file}`);
  results.push([file, await runFile(file)]);
}
const { loads, ownCores, otherCores } = await load.stop();
const cores = cpus().length;
const mean = loads.reduce((sum, s) => sum + s, 0) / loads.length;
const max = Math.max(...loads);
console.log('\n## summary');
table([
  ['file', 'time', 'result'],
  ...results.map(([file, r]) => [file, ms(r.ms), r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`]),
]);
console.log(
  `load average (1 min) during the run: mean ${mean.toFixed(2)}, max ${max.toFixed(2)} on ${cores} cores; ` +
    `the bench and its test bed kept ${ownCores.toFixed(2)} cores busy on average, other work about ` +
    `${otherCores.toFixed(2)}` +
    (otherCores >= cores * BUSY_SHARE
      ? ': the machine was busy with other work; these figures are not to be published'
      : ''),
);
process.exit(results.every(([, r]) => r.code === 0) ? 0 : 1);
