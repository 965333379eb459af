// Peak resident memory of a 1,000-object first apply: the worker function's bundle running a whole job in a
// fresh process (fetch, render, validate, apply, wait for health, record), Ferry's engine alone (render,
// validate, apply) in a fresh process, and `kubectl apply --server-side` on the same objects; each measured in a
// process of its own.
import { spawnSync } from 'node:child_process';
import { SqsJobQueue } from '../functions/adapters/aws/sqs-job-queue.ts';
import { createJob } from '../functions/core/model/job.ts';
import { WORKER_PROCESS } from '../lib/deploy-pipeline.ts';
import { processEnvironment } from '../lib/ferry-function.ts';
import { uniqueName } from '../test/support/testbed.ts';
import { createSite, invokeBundle } from './site.ts';
import {
  bundleFunction,
  FUNCTION_ENTRIES,
  freshEngineApply,
  kubeconfigFile,
  mb,
  pick,
  quickNote,
  sideBySide,
  table,
  verdict,
} from './support.ts';

const OBJECTS = pick(1000, 200);
const GOAL_BYTES = 128 * 1024 * 1024;

// The worker's bundle, one job of an app of OBJECTS objects (a third of them Deployments) in one namespace.
const site = await createSite({ apps: 1, objectsPerApp: OBJECTS });
const app = site.apps[0] ?? '';
const commit = await site.push(1);
await new SqsJobQueue(site.deployQueueUrl).enqueue([
  createJob(
    { app, environment: 'staging', part: 'app' },
    { ref: 'refs/heads/main', commit },
    { kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' },
  ),
]);
const worker = await bundleFunction(FUNCTION_ENTRIES.worker, 'worker', site.env.FERRY_CONFIG_JSON);
const rollouts = site.rollouts();
const job = await invokeBundle(worker.file, 'worker', await site.receiveJobs(), site.env);
await rollouts.stop();
if (((job.result as { batchItemFailures?: unknown[] }).batchItemFailures ?? []).length > 0)
  throw new Error('the worker failed its job');

// The engine alone, and kubectl, on the same bundle in namespaces of their own.
const namespaces = OBJECTS / 50;
const { run, api, tools, ourDir, theirDir } = await sideBySide('m', namespaces, 50);
api.close();
const kubeconfig = await kubeconfigFile();
const engine = await freshEngineApply({ dir: ourDir, environment: run, kubeconfig });
// kubectl's peak, read by Python's resource module (a prerequisite of the test bed) for the child it runs.
const probe = `import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`;
const kubectl = spawnSync(
  'python3',
  ['-c', probe, tools.kubectl, 'apply', '--server-side', '-R', '-f', theirDir, '--kubeconfig', kubeconfig],
  { encoding: 'utf8', env: { ...process.env, HOME: site.workspace.dir } },
);
if (kubectl.status !== 0) throw new Error(`kubectl failed: ${kubectl.stderr}`);
const kubectlPeak = Number(kubectl.stdout.trim()) * 1024;

console.log(
  `${OBJECTS} objects (Deployments, Services, ConfigMaps), first apply; each in a process of its own, the Node.js ` +
    'runtime and every module loaded included; the worker reads the test bed from a kubeconfig of a server, its CA ' +
    "and a token (what the EKS path gives), without @kubernetes/client-node, as on EKS; the worker's process " +
    `started as the stack starts it (${Object.entries(processEnvironment(WORKER_PROCESS))
      .map(([name, value]) => `${name}=${value}`)
      .join(', ')})`,
);
const row = (name: string, bytes: number, goal: boolean) => [
  name,
  mb(bytes),
  goal ? `<= ${mb(GOAL_BYTES)}: ${verdict(bytes <= GOAL_BYTES)}` : '',
];
table([
  ['peak resident memory', '', 'goal'],
  row(
    'ferry worker bundle, whole job (fetch, render, validate, apply, wait, record), as on EKS',
    job.maxRssKb * 1024,
    true,
  ),
  row('ferry engine alone (render, validate, apply; TypeScript sources)', engine.maxRssKb * 1024, false),
  row('kubectl apply --server-side', kubectlPeak, false),
]);
console.log(
  `the worker's job took ${(job.invokeMs / 1000).toFixed(1)} s (its health wait included); ` +
    `the engine alone ${(engine.applyMs / 1000).toFixed(1)} s, its requests ${engine.requests}`,
);
quickNote();
