// Peak memory of the worker's engine (render, validate, apply) for a 1,000-object bundle, beside kubectl's for
// the same files, each measured in a process of its own.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { writeTestbedKubeconfig } from '../test/support/testbed.ts';
import { sideBySide, table } from './support.ts';

const { run, api, tools, ourDir, theirDir } = await sideBySide('m', 20, 50);
api.close();
const child = spawnSync(process.execPath, ['bench/engine-child.ts', ourDir, run], { encoding: 'utf8' });
if (child.status !== 0) throw new Error(`the engine failed: ${child.stderr}`);
const ours = JSON.parse(child.stdout) as { objects: number; maxRssKb: number };

// kubectl's peak, read by Python's resource module (a prerequisite of the test bed) for the child it runs.
const kubeconfig = await writeTestbedKubeconfig();
const probe = `import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`;
const kubectl = spawnSync(
  'python3',
  ['-c', probe, tools.kubectl, 'apply', '--server-side', '-R', '-f', theirDir, '--kubeconfig', kubeconfig],
  { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() } },
);
if (kubectl.status !== 0) throw new Error(`kubectl failed: ${kubectl.stderr}`);
const kubectlPeakMb = Number(kubectl.stdout.trim()) / 1024;

console.log(`${ours.objects} objects (Deployments, Services, ConfigMaps in 20 namespaces), first apply`);
table([
  ['', 'ferry worker engine', 'kubectl apply --server-side', 'goal'],
  [
    'peak resident memory',
    `${(ours.maxRssKb / 1024).toFixed(0)} MB`,
    `${kubectlPeakMb.toFixed(0)} MB`,
    '< 256 MB',
  ],
]);
console.log(
  "each in a process of its own; ferry's figure includes the Node.js runtime and every module the engine loads",
);
