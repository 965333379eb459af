// Shared by the benchmarks: bundles of generated objects, the test bed's cluster, and side-by-side tables.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesApi } from '../functions/adapters/kubernetes/api-client.ts';
import { KubernetesCluster } from '../functions/adapters/kubernetes/kubernetes-cluster.ts';
import { layerManifestTools, layerToolPaths } from '../functions/adapters/tools/layer-tools.ts';
import type { KubeObject } from '../functions/core/objects.ts';
import { configMap, deployment, service, yaml } from '../test/support/manifests.ts';
import {
  createNamespaces,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../test/support/testbed.ts';

/** `perNamespace` objects in each namespace: Deployments, Services and ConfigMaps in turn. */
export function bundle(namespaces: readonly string[], perNamespace: number): KubeObject[] {
  const make = [
    (i: number) => deployment(`app-${i}`, 'nginx:1.27'),
    (i: number) => service(`app-${i}`),
    (i: number) => configMap(`app-${i}`, { index: String(i), payload: 'x'.repeat(200) }),
  ];
  return namespaces.flatMap((namespace) =>
    Array.from({ length: perNamespace }, (_, n) => {
      const object = make[n % 3]?.(Math.floor(n / 3)) as KubeObject;
      return { ...object, metadata: { ...object.metadata, namespace } };
    }),
  );
}

/** Writes a bundle as one YAML file per namespace, as a repository would hold it. */
export async function writeBundle(objects: readonly KubeObject[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  const byNamespace = Map.groupBy(objects, (o) => o.metadata.namespace ?? '');
  await mkdir(dir, { recursive: true });
  for (const [namespace, members] of byNamespace)
    await writeFile(join(dir, `${namespace}.yaml`), yaml(...members));
  return dir;
}

export function testbedCluster(): { api: KubernetesApi; cluster: KubernetesCluster } {
  const api = new KubernetesApi(testbedKubeConfig());
  return { api, cluster: new KubernetesCluster(api) };
}

/** Runs `kubectl apply --server-side` on a directory; resolves the wall time in milliseconds. */
export async function kubectlApply(kubectl: string, dir: string): Promise<number> {
  const kubeconfig = await writeTestbedKubeconfig();
  const started = performance.now();
  const { status, stderr } = spawnSync(
    kubectl,
    [
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=kubectl-bench',
      '-R',
      '-f',
      dir,
      '--kubeconfig',
      kubeconfig,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HOME: tmpdir() } },
  );
  const elapsed = performance.now() - started;
  if (status !== 0) throw new Error(`kubectl apply failed: ${stderr}`);
  return elapsed;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
}

export const ms = (value: number) => `${value.toFixed(0)} ms`;
export const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;

/**
 * The same bundle twice, in namespaces of its own for Ferry and for kubectl, written as files: the set-up of a
 * side-by-side run.
 */
export async function sideBySide(prefix: string, namespaces: number, perNamespace: number) {
  const run = uniqueName(prefix);
  const ours = Array.from({ length: namespaces }, (_, i) => `${run}-ferry-${i}`);
  const theirs = Array.from({ length: namespaces }, (_, i) => `${run}-kubectl-${i}`);
  const { api, cluster } = testbedCluster();
  await createNamespaces(api, [...ours, ...theirs]);
  const objects = bundle(ours, perNamespace);
  return {
    run,
    ours,
    theirs,
    api,
    cluster,
    objects,
    tools: await layerToolPaths(),
    renderer: await layerManifestTools(),
    ourDir: await writeBundle(objects),
    theirDir: await writeBundle(bundle(theirs, perNamespace)),
  };
}
