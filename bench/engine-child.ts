// Run by worker-memory.bench.ts in a fresh process: renders and applies one directory as the worker does,
// then prints the process's peak resident memory in kilobytes. Nothing else runs in this process.
import { layerManifestTools } from '../functions/adapters/tools/layer-tools.ts';
import { applyRevision } from '../functions/core/apply/engine.ts';
import { render } from '../functions/core/source/render.ts';
import { testbedCluster } from './support.ts';

const [dir = '', environment = ''] = process.argv.slice(2);
const { api, cluster } = testbedCluster();
const objects = await render(
  { root: dir, path: '.', namespace: 'default', releaseName: 'bench', valuesFiles: [] },
  await layerManifestTools(),
);
const applied = await applyRevision(objects, {
  cluster,
  owner: { app: 'bench', environment, part: 'app' },
  defaultNamespace: 'default',
  previous: [],
  recreateOnImmutableChange: false,
  ignore: [],
});
api.close();
console.log(JSON.stringify({ objects: applied.results.length, maxRssKb: process.resourceUsage().maxRSS }));
