// The comparison behind `ferry diff`, wired from the core's own steps: the revision rendered by the shared source
// (`renderRevision`), planned as the engine plans it (namespaces defaulted, ownership labels added; hooks left
// out, as they are never in an inventory), and compared with the live objects by drift detection
// (`detectDrift`: list by label, dry-run, the engine's differ, Secret values masked). Objects of the applied
// inventory that the revision lacks would be pruned.
import { KubernetesClusterConnector } from '../functions/adapters/kubernetes/cluster-connector.ts';
import { layerManifestTools } from '../functions/adapters/tools/layer-tools.ts';
import { plan } from '../functions/core/apply/prepare.ts';
import type { Config } from '../functions/core/config.ts';
import { errorMessage } from '../functions/core/errors.ts';
import { clusterOf } from '../functions/core/model/part.ts';
import type { DriftedObject } from '../functions/core/model/records.ts';
import { describeRef, refKey, refOf } from '../functions/core/objects.ts';
import type { Cluster } from '../functions/core/ports.ts';
import { detectDrift } from '../functions/core/reconcile/drift.ts';
import { remoteOf, renderRevision } from '../functions/core/source/revision.ts';
import { CliError } from './cli.ts';
import type { ManualPart } from './install.ts';

export interface Comparison {
  /** Objects to create (or adopt: they exist without Ferry's labels) and objects whose live state differs. */
  readonly drifted: (DriftedObject & { readonly adopt?: boolean })[];
  /** Objects of the applied inventory the revision no longer has, still live: a deployment would prune them. */
  readonly pruned: string[];
  /** Objects of the revision compared. */
  readonly compared: number;
}

export async function compare(
  part: ManualPart,
  config: Config,
  commit: string,
  step: (text: string) => void,
): Promise<Comparison> {
  const { found, key, target } = part;
  const [secrets, git, tools] = await Promise.all([target.secrets(), target.git(), layerManifestTools()]);
  const remote = await remoteOf(config, secrets, found.app);
  step(`Fetching and rendering ${commit.slice(0, 12)} of repository ${found.app.repository}...`);
  const objects = await renderRevision({ config, secrets, git, tools }, remote, found, commit);
  const clusterName = found.environment.cluster;
  const connector = new KubernetesClusterConnector({
    eks: async (...args) =>
      (await import('../functions/adapters/aws/eks-connection.ts')).eksClusterAccess(...args),
  });
  try {
    const cluster = await connector.connect(clusterOf(config, found.environment));
    step(`Comparing ${objects.length} object(s) with cluster ${clusterName}...`);
    return await onCluster(part, cluster, objects).catch((error: unknown) => {
      throw new CliError(`cluster ${clusterName}: ${errorMessage(error)}`, { cause: error });
    });
  } finally {
    connector.close();
  }
  // The state's inventory says what a deployment would prune.
  async function onCluster(
    p: ManualPart,
    cluster: Cluster,
    rendered: Awaited<ReturnType<typeof renderRevision>>,
  ) {
    const planned = await plan(rendered, {
      cluster,
      owner: key,
      defaultNamespace: found.environment.namespace,
    });
    if (planned.rejections.length > 0) {
      const reasons = planned.rejections.map((r) => r.message ?? describeRef(r.ref)).join('\n');
      throw new CliError(`the revision would be rejected:\n${reasons}`);
    }
    const desired = planned.planned.filter((o) => o.hook === undefined).map((o) => o.desired);
    const report = await detectDrift({
      cluster,
      owner: key,
      inventory: desired.map((object) => ({ ...refOf(object), hash: '' })),
      ignore: found.environment.ignoreDifferences,
      desired: async () => desired,
    });
    const byDescription = new Map(desired.map((object) => [describeRef(refOf(object)), object]));
    const drifted = await Promise.all(
      report.drifted.map(async (object) => {
        const want = byDescription.get(object.object);
        if (object.reason !== 'missing' || want === undefined) return object;
        return (await cluster.get(refOf(want))) === undefined ? object : { ...object, adopt: true };
      }),
    );
    const kept = new Set(desired.map((object) => refKey(refOf(object))));
    const { state } = await p.target.operations.part(key);
    const gone = found.settings.prune ? (state?.inventory ?? []).filter((e) => !kept.has(refKey(e))) : [];
    const live = await Promise.all(
      gone.map(async (entry) => ((await cluster.get(entry)) === undefined ? [] : [describeRef(entry)])),
    );
    return { drifted, pruned: live.flat(), compared: desired.length };
  }
}
