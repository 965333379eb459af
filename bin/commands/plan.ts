// `ferry plan`: what deploying a revision of a part would do to its live cluster, the same plan a pull request's
// comment shows: rendered as a deploy renders it (within an untrusted head's bounds), every object dry-run
// against the cluster, compared by the engine's differ, prune candidates judged, the deletion budget counted.
// Nothing is applied. Exit code 0 when nothing would change, 1 when something would, 2 when anything would be
// refused (or the plan could not be made), so that a CI job can use it without a webhook.
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import { layerManifestTools, UNTRUSTED_RENDER } from '../../functions/adapters/tools/layer-tools.ts';
import { errorMessage } from '../../functions/core/errors.ts';
import { COMMIT_ID } from '../../functions/core/model/commit.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import { headlineOf, type PartPlan, verdictOf } from '../../functions/core/plan/model.ts';
import { planPart } from '../../functions/core/plan/plan.ts';
import { planLines } from '../../functions/core/plan/text.ts';
import { remoteOf } from '../../functions/core/source/revision.ts';
import { CliError, out, paint, parse, printHelp, type Style, UsageError, usage } from '../cli.ts';
import { type ManualPart, openPart, remoteRefs } from '../manual-job.ts';
import { progress } from '../progress.ts';
import { resolveRevision } from '../revision.ts';
import { openTarget, partArgument, requireConfig, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry plan <app>/<environment> <commit|branch|tag|refs/...> [options]',
  `Plans a revision of an environment against its live cluster, as Ferry plans every pull request: the commit is
fetched and rendered as a deployment renders it (Kustomize without plugins or functions, Helm without
post-renderers or lookups, bounded in time and size), every object is dry-run by the API server, and the
result is compared with what runs by the deployment's own differ and ignoreDifferences. It lists the objects
to create, to change (each field with its live and new values; Secret values masked), to prune (with the
verdict of each: owned, or retained and why) and the deletion budget's verdict, and the objects the API
server would refuse, with its reasons. Nothing is applied.

Exit code 0 when nothing would change, 1 when something would, 2 when anything would be refused or the plan
could not be made.`,
  [['--part <app|config>', "The app's objects (default) or the environment's configuration"], ...TARGET_HELP],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('plan', args, { ...TARGET_OPTIONS, part: { type: 'string' } }, true);
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('plan', positionals, values.part);
  const [text, ...extra] = rest;
  if (text === undefined || extra.length > 0)
    throw new UsageError('expected <app>/<environment> and one commit, branch or tag', 'plan');
  try {
    const target = await openTarget('plan', values);
    try {
      const plan = await planOf(openPart(target, key), key, text);
      printPlan(plan);
      return { unchanged: 0, changes: 1, refused: 2 }[verdictOf(plan)];
    } finally {
      target.close();
    }
  } catch (error) {
    // 1 says "something would change", so a failure is 2, as a refusal.
    if (error instanceof UsageError) throw error;
    throw new CliError(errorMessage(error), { exitCode: 2, cause: error });
  }
}

async function planOf(part: ManualPart, key: PartKey, text: string): Promise<PartPlan> {
  const config = requireConfig(part.target);
  const refs = COMMIT_ID.test(text) ? new Map<string, string>() : await remoteRefs(part);
  const history = await part.target.operations.history(key, 100);
  const { commit } = resolveRevision(text, { refs, history, repository: part.found.app.repository });
  const shown = await progress(
    `Planning ${commit.slice(0, 12)} of ${key.app}/${key.environment} against cluster ${part.found.environment.cluster}...`,
  );
  const clusters = new KubernetesClusterConnector({
    eks: async (...args) =>
      (await import('../../functions/adapters/aws/eks-connection.ts')).eksClusterAccess(...args),
  });
  try {
    const [secrets, git, tools] = await Promise.all([
      part.target.secrets(),
      part.target.git(),
      layerManifestTools(UNTRUSTED_RENDER),
    ]);
    const store = { get: async (at: PartKey) => (await part.target.operations.part(at)).state };
    const deps = { config, secrets, git, tools, clusters, store };
    const plan = await planPart(
      deps,
      key,
      part.found,
      await remoteOf(config, secrets, part.found.app),
      commit,
    );
    shown.done('planned', true);
    return plan;
  } catch (error) {
    shown.done('the plan failed', false);
    throw error;
  } finally {
    clusters.close();
  }
}

const STYLES: Readonly<Record<string, Style>> = {
  '+': 'green',
  '~': 'yellow',
  '-': 'red',
  '!': 'red',
  '=': 'cyan',
};

/** The plan as a pull request's comment shows it, coloured by verdict on a terminal. */
function printPlan(plan: PartPlan): void {
  out(paint('bold', headlineOf(plan)));
  for (const line of planLines(plan)) {
    const style = STYLES[line[0] ?? ''];
    out(style === undefined ? line : paint(style, line));
  }
}
