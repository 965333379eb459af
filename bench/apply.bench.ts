// First apply and unchanged re-apply of 300 and 1,000 objects (Deployments, Services, ConfigMaps), Ferry against
// `kubectl apply --server-side` on the same files and the same API server: Ferry in a warm process (a warm
// Lambda: discovery known, connections open) and in a fresh one (a cold Lambda or the CLI: Node's start, imports
// and discovery included, as kubectl's process pays its own), on loopback and through the bench's latency proxy
// adding 2 ms and 10 ms of round trip in front of the API server, both tools through the same proxy. Every run
// counts its requests: Ferry's from its client, kubectl's from its own log of each.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerManifestTools } from '../functions/adapters/tools/layer-tools.ts';
import { type AppliedRevision, applyRevision } from '../functions/core/apply/engine.ts';
import type { InventoryEntry } from '../functions/core/model/inventory.ts';
import { render } from '../functions/core/source/render.ts';
import { createNamespaces, testbed, uniqueName } from '../test/support/testbed.ts';
import {
  type BundleSet,
  bundle,
  bundleSets,
  describeRequests,
  freshEngineApply,
  kubeConfigOf,
  kubeconfigFile,
  kubectlApply,
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
  writeBundle,
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
const GOALS = { first: 0.5, again: 0.2 };

const requests = recordRequests();
const renderer = await layerManifestTools();
const { api: direct } = testbedCluster();
const run = uniqueName('a');

interface Figures {
  readonly ms: number;
  readonly requests: string;
}
type Row = Record<'warm' | 'fresh' | 'kubectl', Figures>;

async function measure(rttMs: number): Promise<{ rttMs: number; rows: [string, Row][] }> {
  const proxy = rttMs === 0 ? undefined : await startLatencyProxy(testbed().kubeServer, rttMs);
  const kubeconfig = await kubeconfigFile(proxy?.server);
  const { api, cluster } = testbedCluster(kubeConfigOf(kubeconfig));
  const owner = { app: 'bench', environment: `${run}-${rttMs}`, part: 'app' } as const;
  const options = {
    cluster,
    owner,
    defaultNamespace: 'default',
    recreateOnImmutableChange: false,
    ignore: [],
  };
  // Warm: kubectl's discovery cache for this server, and this process's discovery and connections.
  const warmup = `${run}-${rttMs}-warm`;
  await createNamespaces(direct, [warmup]);
  const warmupDir = await writeBundle(bundle([warmup], 3));
  await kubectlApply(warmupDir, kubeconfig);
  await applyRevision(bundle([warmup], 3), { ...options, previous: [] });
  requests.take();

  const warmApply = async (set: BundleSet, previous: readonly InventoryEntry[]) => {
    requests.take();
    const applied = await timed(async () => {
      const objects = await render(
        { root: set.dir, path: '.', namespace: 'default', releaseName: 'bench', valuesFiles: [] },
        renderer,
      );
      return applyRevision(objects, { ...options, previous });
    });
    const sent = requests.take();
    return { ...applied, requests: `${describeRequests(sent)}, peak ${peakRate(sent).toFixed(0)}/s` };
  };

  const rows: [string, Row][] = [];
  for (const size of SIZES) {
    const sets = await bundleSets(
      direct,
      `${run}-${rttMs}-${size.objects}`,
      ['warm', 'fresh', 'kubectl'],
      size.namespaces,
      size.objects / size.namespaces,
    );
    const inventory = join(await mkdtemp(join(tmpdir(), 'ferry-bench-inventory-')), 'inventory.json');
    const fresh = (previous?: string) =>
      freshEngineApply({
        dir: sets.fresh.dir,
        environment: `${owner.environment}-fresh-${size.objects}`,
        kubeconfig,
        inventoryOut: inventory,
        ...(previous === undefined ? {} : { previous }),
      });
    const first: Row = {} as Row;
    const again: Row = {} as Row;
    const warmFirst: { ms: number; value: AppliedRevision; requests: string } = await warmApply(
      sets.warm,
      [],
    );
    first.warm = warmFirst;
    const freshFirst = await fresh();
    first.fresh = { ms: freshFirst.wallMs, requests: freshFirst.requests };
    const kubectlFirst = await kubectlApply(sets.kubectl.dir, kubeconfig);
    first.kubectl = { ms: kubectlFirst.ms, requests: String(kubectlFirst.requests) };
    again.warm = await warmApply(sets.warm, warmFirst.value.inventory);
    const freshAgain = await fresh(inventory);
    again.fresh = { ms: freshAgain.wallMs, requests: freshAgain.requests };
    const kubectlAgain = await kubectlApply(sets.kubectl.dir, kubeconfig);
    again.kubectl = { ms: kubectlAgain.ms, requests: String(kubectlAgain.requests) };
    rows.push([`${size.objects} first apply`, first], [`${size.objects} re-apply`, again]);
    await removeSets(direct, Object.values(sets));
  }
  api.close();
  await proxy?.stop();
  return { rttMs, rows };
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
    ['', 'ferry warm', 'ferry fresh process', 'kubectl', 'warm/kubectl', 'fresh/kubectl', 'goal'],
    ...rows.map(([name, row]) => {
      const goal = name.includes('first') ? GOALS.first : GOALS.again;
      const worst = Math.max(row.warm.ms, row.fresh.ms) / row.kubectl.ms;
      return [
        name,
        ms(row.warm.ms),
        ms(row.fresh.ms),
        ms(row.kubectl.ms),
        ratio(row.warm.ms, row.kubectl.ms),
        ratio(row.fresh.ms, row.kubectl.ms),
        `<= ${goal.toFixed(2)}x: ${verdict(worst <= goal)}`,
      ];
    }),
  ]);
  table([
    ['requests', 'ferry warm', 'ferry fresh process', 'kubectl'],
    ...rows.map(([name, row]) => [name, row.warm.requests, row.fresh.requests, row.kubectl.requests]),
  ]);
}
console.log(
  '\nferry fresh process: wall time of a new Node process (start, imports, discovery, render, apply), as a cold ' +
    'worker or `ferry deploy` pays it; kubectl: a new process per run, its discovery cache warm (as on an ' +
    "operator's machine), counted from its -v=6 log. Both reach the API server through the same proxy. Peak: the " +
    'most requests Ferry sent in one second (within its client-side limit of 1,000/s, bursts of 2,000; 16 connections at most).',
);
quickNote();
