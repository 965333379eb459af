// Applying a 300-object bundle (Deployments, Services, ConfigMaps over 10 namespaces) from scratch and again
// unchanged, against `kubectl apply --server-side` on the same files and the same apiserver.
import { applyRevision } from '../functions/core/apply/engine.ts';
import { render } from '../functions/core/source/render.ts';
import { createNamespaces } from '../test/support/testbed.ts';
import { bundle, kubectlApply, ms, ratio, sideBySide, table, timed, writeBundle } from './support.ts';

const { run, api, cluster, tools, renderer, ourDir, theirDir } = await sideBySide('b', 10, 30);
await createNamespaces(api, [`${run}-warm`]);

// Warm both: kubectl's discovery cache, and our process's discovery and connections (a warm Lambda).
await kubectlApply(tools.kubectl, await writeBundle(bundle([`${run}-warm`], 3)));
const owner = { app: 'bench', environment: run, part: 'app' } as const;
const options = { cluster, owner, defaultNamespace: 'default', recreateOnImmutableChange: false, ignore: [] };
await applyRevision(bundle([`${run}-warm`], 3), { ...options, previous: [] });

const deployOnce = async (previous: Parameters<typeof applyRevision>[1]['previous']) => {
  const objects = await render(
    { root: ourDir, path: '.', namespace: 'default', releaseName: 'bench', valuesFiles: [] },
    renderer,
  );
  return applyRevision(objects, { ...options, previous });
};

const first = await timed(() => deployOnce([]));
const kubectlFirst = await kubectlApply(tools.kubectl, theirDir);
const again = await timed(() => deployOnce(first.value.inventory));
const kubectlAgain = await kubectlApply(tools.kubectl, theirDir);
const count = (action: string) => again.value.results.filter((r) => r.action === action).length;

console.log(
  `300 objects (100 Deployments, 100 Services, 100 ConfigMaps in 10 namespaces); kube-apiserver on loopback`,
);
table([
  ['', 'ferry', 'kubectl apply --server-side', 'ratio', 'goal'],
  ['first apply', ms(first.ms), ms(kubectlFirst), ratio(first.ms, kubectlFirst), '<= 0.50x'],
  ['unchanged re-apply', ms(again.ms), ms(kubectlAgain), ratio(again.ms, kubectlAgain), '<= 0.30x'],
]);
console.log(
  `ferry: render + validate (server-side dry-run) + apply, in a warm process; re-apply: ${count('unchanged')} unchanged`,
);
console.log('kubectl: a new process per run, as a CI job or an operator runs it');
api.close();
