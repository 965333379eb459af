// Run by the benchmarks in a fresh process (bench/support.ts, freshEngineApply): renders one directory and
// applies it with Ferry's engine as `ferry deploy` does (every object validated by a server-side dry-run before
// any is applied), then prints, as one JSON line, the objects, the apply's time, the time since the process
// started, the requests sent and the process's peak resident memory. Given the file of a previous inventory,
// it re-applies; given `inventoryOut`, it writes the new inventory there. Nothing else runs in this process.
import { readFile, writeFile } from 'node:fs/promises';
import { KubernetesClusterConnector } from '../functions/adapters/kubernetes/cluster-connector.ts';
import { layerManifestTools } from '../functions/adapters/tools/layer-tools.ts';
import { applyRevision } from '../functions/core/apply/engine.ts';
import type { InventoryEntry } from '../functions/core/model/inventory.ts';
import { render } from '../functions/core/source/render.ts';
import { describeRequests, type EngineChildResult, peakRate, recordRequests } from './requests.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  dir: string;
  environment: string;
  kubeconfig: string;
  previous?: string;
  inventoryOut?: string;
};
const requests = recordRequests();
const started = performance.now();
// As `ferry deploy` and the local mode reach a cluster: the connector, reading the kubeconfig.
const connector = new KubernetesClusterConnector();
const cluster = await connector.connect({
  name: 'bench',
  type: 'kubeconfig',
  kubeconfig: options.kubeconfig,
});
const previous =
  options.previous === undefined
    ? []
    : (JSON.parse(await readFile(options.previous, 'utf8')) as InventoryEntry[]);
const objects = await render(
  { root: options.dir, path: '.', namespace: 'default', releaseName: 'bench', valuesFiles: [] },
  await layerManifestTools(),
);
const applied = await applyRevision(objects, {
  cluster,
  owner: { app: 'bench', environment: options.environment, part: 'app' },
  defaultNamespace: 'default',
  previous,
  recreateOnImmutableChange: false,
  ignore: [],
});
const ended = performance.now();
connector.close();
if (options.inventoryOut !== undefined)
  await writeFile(options.inventoryOut, JSON.stringify(applied.inventory));
const sent = requests.take();
const result: EngineChildResult = {
  objects: applied.results.length,
  applyMs: ended - started,
  processMs: ended,
  requests: `${describeRequests(sent)}, peak ${peakRate(sent).toFixed(0)}/s`,
  requestCount: sent.length,
  maxRssKb: process.resourceUsage().maxRSS,
};
console.log(JSON.stringify(result));
