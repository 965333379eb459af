// First apply and unchanged re-apply of 300 and 1,000 objects (Deployments, Services, ConfigMaps), Ferry against
// `kubectl apply --server-side` on the same files and the same API server: Ferry in a warm process (a warm
// Lambda: discovery known, connections open) and in a fresh one (as the CLI runs, its compile cache warm: Node's
// start, imports and discovery included, as kubectl's process pays its own), on loopback and through the bench's
// latency proxy adding 2 ms and 10 ms of round trip in front of the API server, both tools through the same proxy. Every run
// counts its requests: Ferry's from its client, kubectl's from its own log of each. Each measurement runs in
// rounds, the tools taking turns to go first, and the median is reported: the API server's CPU per request varies
// by a third between runs on shared cores, and whichever tool runs first after a quiet spell pays the most.
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerManifestTools } from '../functions/adapters/tools/layer-tools.ts';
import { applyRevision } from '../functions/core/apply/engine.ts';
import type { InventoryEntry } from '../functions/core/model/inventory.ts';
import type { Cluster } from '../functions/core/ports.ts';
import { render } from '../functions/core/source/render.ts';
import { testbed, uniqueName } from '../test/support/testbed.ts';
import { type CpuSpent, cpuMeter } from './cpu.ts';
import {
  type BundleSet,
  bundleSets,
  describeRequests,
  freshEngineApply,
  kubeConfigOf,
  kubeconfigFile,
  kubectlApply,
  median,
  ms,
  peakRate,
  pick,
  quickNote,
  ratio,
  recordRequests,
  removeSets,
  startLatencyProxy,
  table,
  testbedCluster,
  timed,
  verdict,
} from './support.ts';

/** Objects, as namespaces of so many objects each. */
const SIZES = pick(
  [
    { objects: 300, namespaces: 10 },
    { objects: 1000, namespaces: 20 },
  ],
  [{ objects: 90, namespaces: 3 }],
);
const ROUND_TRIPS_MS = pick([0, 2, 10], [0, 10]);
/** Rounds of each measurement, in fresh namespaces each, the tools' order turned round by one each time. */
const ROUNDS = pick(3, 1);
const GOALS = { first: 0.5, again: 0.2 };
const TOOLS = ['warm', 'fresh', 'kubectl'] as const;
type Tool = (typeof TOOLS)[number];

const requests = recordRequests();
const renderer = await layerManifestTools();
const { api: direct } = testbedCluster();
const run = uniqueName('a');

interface Figures {
  readonly ms: number;
  readonly requests: string;
  readonly cpu: CpuSpent;
}
/** One tool's first apply of a bundle, then its unchanged re-apply. */
type Pair = readonly [first: Figures, again: Figures];
type Measure = (set: BundleSet, name: string) => Promise<Pair>;
type Row = Record<Tool, readonly Figures[]>;

/** The three tools against one API server (directly or through the latency proxy), each a first and a re-apply. */
async function toolsFor(
  rttMs: number,
  kubeconfig: string,
  cluster: Cluster,
  proxyPid?: number,
): Promise<Record<Tool, Measure>> {
  const meter = cpuMeter(testbed().kubeServer, proxyPid);
  const options = { cluster, defaultNamespace: 'default', recreateOnImmutableChange: false, ignore: [] };
  const owner = (name: string) =>
    ({ app: 'bench', environment: `${run}-${rttMs}-${name}`, part: 'app' }) as const;
  const warmApply = async (set: BundleSet, name: string, previous: readonly InventoryEntry[]) => {
    requests.take();
    const { value: applied, cpu } = await meter(() =>
      timed(async () => {
        const objects = await render(
          { root: set.dir, path: '.', namespace: 'default', releaseName: 'bench', valuesFiles: [] },
          renderer,
        );
        return applyRevision(objects, { ...options, owner: owner(name), previous });
      }),
    );
    const sent = requests.take();
    return { ...applied, cpu, requests: `${describeRequests(sent)}, peak ${peakRate(sent).toFixed(0)}/s` };
  };
  const fresh = async (set: BundleSet, name: string, inventory: string, previous?: string) => {
    const environment = owner(name).environment;
    const { value: ran, cpu } = await meter(() =>
      freshEngineApply({
        ...{ dir: set.dir, environment, kubeconfig, inventoryOut: inventory },
        ...(previous === undefined ? {} : { previous }),
      }),
    );
    return { ms: ran.wallMs, cpu, requests: ran.requests };
  };
  const kubectl = async (set: BundleSet) => {
    const { value: ran, cpu } = await meter(() => kubectlApply(set.dir, kubeconfig));
    return { ms: ran.ms, cpu, requests: String(ran.requests) };
  };
  return {
    warm: async (set, name) => {
      const first = await warmApply(set, name, []);
      return [first, await warmApply(set, name, first.value.inventory)];
    },
    fresh: async (set, name) => {
      const inventory = join(await mkdtemp(join(tmpdir(), 'ferry-bench-inventory-')), 'inventory.json');
      return [await fresh(set, name, inventory), await fresh(set, name, inventory, inventory)];
    },
    kubectl: async (set) => [await kubectl(set), await kubectl(set)],
  };
}

/**
 * Every tool once on a small bundle before anything is measured: kubectl's discovery cache for this server,
 * this process's discovery and connections, and Node's compile cache for the fresh processes.
 */
async function warmUp(rttMs: number, measures: Record<Tool, Measure>): Promise<void> {
  const sets = await bundleSets(direct, `${run}-${rttMs}-warmup`, TOOLS, 1, 3);
  for (const tool of TOOLS) await measures[tool](sets[tool], 'warmup');
  await removeSets(direct, Object.values(sets));
}

async function measure(rttMs: number): Promise<{ rttMs: number; rows: [string, Row][] }> {
  const proxy = rttMs === 0 ? undefined : await startLatencyProxy(testbed().kubeServer, rttMs);
  const kubeconfig = await kubeconfigFile(proxy?.server);
  const { api, cluster } = testbedCluster(kubeConfigOf(kubeconfig));
  const measures = await toolsFor(rttMs, kubeconfig, cluster, proxy?.pid);
  await warmUp(rttMs, measures);
  const rows: [string, Row][] = [];
  for (const size of SIZES) {
    const first = { warm: [], fresh: [], kubectl: [] } as Record<Tool, Figures[]>;
    const again = { warm: [], fresh: [], kubectl: [] } as Record<Tool, Figures[]>;
    for (let round = 0; round < ROUNDS; round++) {
      const name = `${size.objects}-${round}`;
      const perNamespace = size.objects / size.namespaces;
      const sets = await bundleSets(direct, `${run}-${rttMs}-${name}`, TOOLS, size.namespaces, perNamespace);
      for (const tool of [...TOOLS.slice(round % TOOLS.length), ...TOOLS.slice(0, round % TOOLS.length)]) {
        const [once, twice] = await measures[tool](sets[tool], name);
        first[tool].push(once);
        again[tool].push(twice);
      }
      await removeSets(direct, Object.values(sets));
    }
    rows.push([`${size.objects} first apply`, first], [`${size.objects} re-apply`, again]);
  }
  api.close();
  await proxy?.stop();
  return { rttMs, rows };
}

/** The median run of a tool's, in ms. */
const mid = (runs: readonly Figures[]) => median(runs.map((r) => r.ms));

const cores = cpus().length;

/**
 * A tool's runs' CPU (medians): the API server's with etcd's, the tool's and the proxy's; and the shortest time
 * they allow on this machine's cores, however the work were scheduled.
 */
function cpuCell(runs: readonly Figures[]): string {
  const of = (spent: (cpu: CpuSpent) => number) => median(runs.map((r) => spent(r.cpu)));
  const floor = of((cpu) => cpu.server + cpu.tool + cpu.proxy) / cores;
  const proxy = of((cpu) => cpu.proxy);
  return (
    `server ${of((cpu) => cpu.server).toFixed(0)} + own ${of((cpu) => cpu.tool).toFixed(0)}` +
    `${proxy > 0 ? ` + proxy ${proxy.toFixed(0)}` : ''}: >= ${ms(floor)}`
  );
}

const results = [];
for (const rttMs of ROUND_TRIPS_MS) results.push(await measure(rttMs));
direct.close();

console.log(
  'Deployments, Services and ConfigMaps in turn (namespaces of 30 or 50); first apply into fresh namespaces, then ' +
    'the same files again (unchanged). Ferry renders, validates every object (server-side dry-run) before it ' +
    'applies any, and applies; kubectl validates nothing first.',
);
for (const { rttMs, rows } of results) {
  console.log(`\n${rttMs === 0 ? 'loopback' : `through the latency proxy: +${rttMs} ms round trip`}`);
  table([
    ['median', 'ferry warm', 'ferry fresh process', 'kubectl', 'warm/kubectl', 'fresh/kubectl', 'goal'],
    ...rows.map(([name, row]) => {
      const goal = name.includes('first') ? GOALS.first : GOALS.again;
      const [warm, fresh, kubectl] = [mid(row.warm), mid(row.fresh), mid(row.kubectl)];
      return [
        name,
        ms(warm),
        ms(fresh),
        ms(kubectl),
        ratio(warm, kubectl),
        ratio(fresh, kubectl),
        `<= ${goal.toFixed(2)}x: ${verdict(Math.max(warm, fresh) / kubectl <= goal)}`,
      ];
    }),
  ]);
  const each = (runs: readonly Figures[]) => runs.map((r) => r.ms.toFixed(0)).join(' / ');
  table([
    ['each round (ms)', 'ferry warm', 'ferry fresh process', 'kubectl'],
    ...rows.map(([name, row]) => [name, each(row.warm), each(row.fresh), each(row.kubectl)]),
  ]);
  table([
    ['requests', 'ferry warm', 'ferry fresh process', 'kubectl'],
    ...rows.map(([name, row]) => [name, ...TOOLS.map((tool) => row[tool][0]?.requests ?? '')]),
  ]);
  table([
    [
      `CPU (median ms, ${cores} cores)`,
      'ferry warm',
      'ferry fresh process',
      'kubectl',
      `${GOALS.first}x kubectl`,
    ],
    ...rows
      .filter(([name]) => name.includes('first'))
      .map(([name, row]) => [
        name,
        ...TOOLS.map((tool) => cpuCell(row[tool])),
        ms(GOALS.first * mid(row.kubectl)),
      ]),
  ]);
}
console.log(
  `\n${ROUNDS} round(s) of each, in fresh namespaces, the tools taking turns to go first (the API server's ` +
    'CPU varies by a third from run to run on shared cores); the tables give the median. ferry fresh process: ' +
    'wall time of a new Node process (start, imports, discovery, render, apply) as `ferry deploy` pays it, ' +
    "Node's compile cache warm as the CLI keeps it; kubectl: a new process per run, its discovery cache warm " +
    "(as on an operator's machine), counted from its -v=6 log. Both reach the API server through the same " +
    'proxy. Peak: the most requests Ferry sent in one second (within its client-side limit of 1,000/s, bursts ' +
    'of 2,000; at most 16 in flight, on one HTTP/2 connection). CPU, from /proc: the API server and etcd, the tool (the warm engine ' +
    "in this process, a fresh one's or kubectl's process), the latency proxy; >= is their sum spread over every " +
    "core, the shortest the run could take on this machine: where a tool's is above the goal's time, no " +
    'scheduling of its requests meets the goal here.',
);
quickNote();
