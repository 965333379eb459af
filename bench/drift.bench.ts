// Drift checks of 1,000 live objects in 20 namespaces, with no drift and with 10 objects drifted, against
// `kubectl diff --server-side` on the same files and the same apiserver; and the time of one whole no-drift
// check (Git ls-remote, state, lists) of a 50-object environment, as the reconciler Lambda runs it.
import { SqsJobQueue } from '../functions/adapters/aws/sqs-job-queue.ts';
import { applyRevision } from '../functions/core/apply/engine.ts';
import { deploy } from '../functions/core/deploy/deploy.ts';
import { checkEnvironment } from '../functions/core/reconcile/check.ts';
import { detectDrift } from '../functions/core/reconcile/drift.ts';
import { createDeployQueue } from '../test/support/aws.ts';
import { deployFixture } from '../test/support/deploy.ts';
import { yaml } from '../test/support/manifests.ts';
import { simulateRollouts } from '../test/support/rollout.ts';
import { createNamespaces } from '../test/support/testbed.ts';
import {
  bundle,
  kubectlApply,
  ms,
  pick,
  quickNote,
  ratio,
  runKubectl,
  sideBySide,
  table,
  timed,
} from './support.ts';

const { run, ours, theirs, api, cluster, objects, theirDir } = await sideBySide('d', pick(20, 4), 50);
/** One ConfigMap edited by hand in each of the first ten namespaces of each set. */
const DRIFTED = Math.min(10, ours.length);
const owner = { app: 'bench', environment: run, part: 'app' } as const;
const applied = await applyRevision(objects, {
  cluster,
  owner,
  defaultNamespace: 'default',
  previous: [],
  recreateOnImmutableChange: false,
  ignore: [],
});
await kubectlApply(theirDir);

const kubectlDiff = () =>
  timed(async () => {
    const { stdout } = await runKubectl(
      ['diff', '--server-side', '--force-conflicts', '--field-manager=kubectl-bench', '-R', '-f', theirDir],
      { okCodes: [0, 1] },
    );
    return new Set([...stdout.matchAll(/^diff -u -N \S+\/(\S+)\s/gm)].map((m) => m[1])).size;
  });
const ourCheck = () =>
  timed(() =>
    detectDrift({
      cluster,
      owner,
      inventory: applied.inventory,
      desired: async () => applied.desired,
      ignore: [],
    }),
  );

await ourCheck(); // warm: discovery and connections, as in a warm Lambda
const clean = await ourCheck();
const kubectlClean = await kubectlDiff();

// Ten ConfigMaps edited by hand in each set.
const edit = (namespace: string, name: string) =>
  api.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    body: { data: { index: 'edited by hand' } },
    contentType: 'application/merge-patch+json',
  });
await Promise.all(
  Array.from({ length: DRIFTED }, (_, i) => [
    edit(ours[i] as string, 'app-0'),
    edit(theirs[i] as string, 'app-0'),
  ]).flat(),
);
const drifted = await ourCheck();
const kubectlDrifted = await kubectlDiff();
if (drifted.value.drifted.length !== DRIFTED)
  throw new Error(`ferry found ${drifted.value.drifted.length} drifted objects, not ${DRIFTED}`);

console.log(`drift check of ${applied.inventory.length} live objects in ${ours.length} namespaces`);
table([
  ['', 'ferry', 'kubectl diff --server-side', 'ratio', 'goal'],
  ['no drift', ms(clean.ms), ms(kubectlClean.ms), ratio(clean.ms, kubectlClean.ms), '<= 0.30x'],
  [
    `${DRIFTED} objects drifted`,
    ms(drifted.ms),
    ms(kubectlDrifted.ms),
    ratio(drifted.ms, kubectlDrifted.ms),
    '<= 0.30x',
  ],
  [
    'drifted objects found',
    String(drifted.value.drifted.length),
    String(kubectlDrifted.value),
    '',
    String(DRIFTED),
  ],
]);
console.log(
  `ferry dry-runs only objects whose resourceVersion moved: ${clean.value.dryRuns} then ${drifted.value.dryRuns}`,
);

// One whole check of a deployed 50-object environment: ls-remote, DynamoDB, lists; no drift.
const fixture = await deployFixture();
await createNamespaces(api, [fixture.namespace]);
const commit = await fixture.workspace.commit({
  'deploy/app.yaml': yaml(...bundle([fixture.namespace], 50)),
});
await fixture.workspace.push();
const rollouts = simulateRollouts(api, fixture.namespace);
const record = await deploy(fixture.job(commit), fixture.deps);
await rollouts.stop();
if (record.result !== 'succeeded') throw new Error(record.message);
const deps = { ...fixture.deps, store: fixture.store, queue: new SqsJobQueue(await createDeployQueue()) };
const check = {
  app: fixture.app,
  environment: 'staging',
  part: 'app' as const,
  tickId: 'bench',
  scheduledAt: '',
};
const first = await timed(() => checkEnvironment(check, deps));
const warm = await timed(() => checkEnvironment(check, deps));
if (warm.value.action !== 'none') throw new Error(`expected no drift: ${warm.value.message}`);
table([
  ['one no-drift check, 50 objects', 'ferry', 'goal'],
  ['first check of the environment', ms(first.ms), '< 1000 ms'],
  ['next check', ms(warm.ms), '< 1000 ms'],
]);
api.close();
quickNote();
