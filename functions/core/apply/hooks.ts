// Hooks: objects (usually Jobs) that run at a phase of a deployment instead of staying with the app. Each
// deployment creates them afresh, waits until they complete or fail, and deletes them as their policy says;
// they are never in the inventory, so never pruned as app objects.
import { errorMessage } from '../errors.ts';
import type { ObjectResult } from '../model/inventory.ts';
import { describeRef, type KubeObject, refOf } from '../objects.ts';
import type { Cluster } from '../ports.ts';
import { type DeletePolicy, type HookPhase, perDeploymentName } from './annotations.ts';
import { ApplyFailed, list } from './errors.ts';
import { type Health, healthOf } from './health.ts';
import type { Planned } from './prepare.ts';
import { type WaitBudget, waitUntilGone, waitWithin } from './wait.ts';

export interface HookOptions {
  readonly cluster: Cluster;
  /** The deployment's id: a hook without `before-create` is created under a name made from it. */
  readonly runId: string;
  /** Each hook is waited on within the health timeout and the deployment's deadline. */
  readonly budget: WaitBudget;
}

/** A hook failed (or did not complete in time): the deployment fails, naming it and why. */
export class HookFailed extends ApplyFailed {
  override name = 'HookFailed';
  readonly phase: HookPhase;

  constructor(phase: HookPhase, results: readonly ObjectResult[]) {
    const failed = results.filter((r) => r.action === 'hook-failed');
    super('rejected', `${phase} hook failed:\n${list(failed)}`, results);
    this.phase = phase;
  }
}

/** How long the hook a deployment left may take to go before it is created again. */
const GONE_TIMEOUT_MS = 60_000;

/** A revision's hooks, run phase by phase; within a phase by weight, hooks of one weight together. */
export class Hooks {
  readonly #hooks: readonly Planned[];
  readonly #options: HookOptions;

  constructor(hooks: readonly Planned[], options: HookOptions) {
    this.#hooks = hooks;
    this.#options = options;
  }

  /** The ref keys of the hooks under their own names: never pruned, whatever an older inventory says. */
  get keys(): ReadonlySet<string> {
    return new Set(this.#hooks.map((p) => p.key));
  }

  /** The hook as validated: always under this deployment's own name, so an existing one cannot conflict. */
  dryRunObject(p: Planned): KubeObject {
    return renamed(p.desired, perDeploymentName(p.ref.name, this.#options.runId));
  }

  /** Runs a phase's hooks; throws HookFailed, with the results so far, at the first weight with a failure. */
  async run(phase: Exclude<HookPhase, 'sync-fail'>): Promise<ObjectResult[]> {
    const results: ObjectResult[] = [];
    for (const group of this.#byWeight(phase)) {
      results.push(...(await Promise.all(group.map((p) => this.#runOne(p, phase)))));
      if (results.some((r) => r.action === 'hook-failed')) throw new HookFailed(phase, results);
    }
    return results;
  }

  /** Runs the sync-fail hooks after a failed deployment; their own failures are recorded, never thrown. */
  async runSyncFail(): Promise<ObjectResult[]> {
    const results: ObjectResult[] = [];
    for (const group of this.#byWeight('sync-fail')) {
      const ran = group.map((p) =>
        this.#runOne(p, 'sync-fail').catch(
          (error: unknown): ObjectResult => ({
            ref: p.ref,
            action: 'hook-failed',
            message: `${describeRef(p.ref)}: sync-fail hook failed: ${errorMessage(error)}`,
          }),
        ),
      );
      results.push(...(await Promise.all(ran)));
    }
    return results;
  }

  #byWeight(phase: HookPhase): Planned[][] {
    const ofPhase = Map.groupBy(
      this.#hooks.filter((p) => p.hook?.phase === phase),
      (p) => p.wave,
    );
    return [...ofPhase.keys()].sort((a, b) => a - b).map((weight) => ofPhase.get(weight) ?? []);
  }

  async #runOne(p: Planned, phase: HookPhase): Promise<ObjectResult> {
    const { cluster, budget, runId } = this.#options;
    const policies = p.hook?.deletePolicies ?? new Set<DeletePolicy>();
    const object = policies.has('before-create')
      ? p.desired
      : renamed(p.desired, perDeploymentName(p.ref.name, runId));
    const ref = refOf(object);
    if (policies.has('before-create') && (await cluster.delete(ref))) {
      if ((await waitUntilGone(cluster, [ref], GONE_TIMEOUT_MS)).length > 0)
        throw new ApplyFailed(
          'transient',
          `${describeRef(ref)}: the last deployment's hook is still there`,
          [],
        );
    }
    const created = await cluster.apply(object, { dryRun: false });
    const { live, unhealthy } = await waitWithin(cluster, [created], budget, `${phase} hook`);
    const [latest = created] = live;
    const succeeded = unhealthy.length === 0;
    const policy = succeeded ? 'on-success' : 'on-failure';
    const why = succeeded ? '' : `: ${await failureOf(cluster, latest, healthOf(latest), budget)}`;
    const deleted = policies.has(policy) && (await cluster.delete(ref)) ? ` (deleted, ${policy})` : '';
    return {
      ref,
      action: succeeded ? 'hook-succeeded' : 'hook-failed',
      message: `${describeRef(ref)}: ${phase} hook ${succeeded ? 'completed' : 'failed'}${why}${deleted}`,
    };
  }
}

const renamed = (object: KubeObject, name: string): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, name },
});

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

interface ContainerStatus {
  readonly name: string;
  readonly state?: { readonly terminated?: { exitCode: number; reason?: string; message?: string } };
}

interface PodStatus {
  readonly phase?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly initContainerStatuses?: readonly ContainerStatus[];
  readonly containerStatuses?: readonly ContainerStatus[];
}

const cut = (text: string, length = 300) => (text.length <= length ? text : `${text.slice(0, length - 1)}…`);

/**
 * Why a hook failed: a Job's true conditions (as its controller wrote them) and the reasons of its failed pods
 * where the API shows them; for other kinds, their health.
 */
async function failureOf(
  cluster: Cluster,
  object: KubeObject,
  health: Health,
  budget: WaitBudget,
): Promise<string> {
  const timedOut = health.status === 'Failed' ? '' : `not complete after ${budget.timeoutMs / 1000}s: `;
  if (object.kind === 'Pod') return `${timedOut}${describePod(object)}`;
  if (object.kind !== 'Job') return `${timedOut}${health.message}`;
  const status = (object.status ?? {}) as { conditions?: readonly Condition[] };
  const conditions = (status.conditions ?? [])
    .filter((c) => c.status === 'True' && c.type !== 'FailureTarget')
    .map((c) => `${c.type}${c.reason === undefined ? '' : ` (${c.reason})`}: ${c.message ?? ''}`.trim());
  const pods = await failedPods(cluster, object);
  return `${timedOut}${[...(conditions.length > 0 ? conditions : [health.message]), ...pods].join('; ')}`;
}

/** The failed pods of a Job, described; none when the API does not show them (or may not be asked). */
async function failedPods(cluster: Cluster, job: KubeObject): Promise<string[]> {
  const { namespace, uid } = job.metadata;
  if (uid === undefined) return [];
  try {
    const pods = await cluster.list('v1', 'Pod', namespace, { 'batch.kubernetes.io/controller-uid': uid });
    return pods
      .filter((pod) => (pod.status as PodStatus | undefined)?.phase === 'Failed')
      .slice(0, 3)
      .map(describePod);
  } catch {
    return [];
  }
}

function describePod(pod: KubeObject): string {
  const status = (pod.status ?? {}) as PodStatus;
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].flatMap(
    (c) => {
      const terminated = c.state?.terminated;
      if (terminated === undefined || terminated.exitCode === 0) return [];
      const message = terminated.message === undefined ? '' : `: ${cut(terminated.message.trim())}`;
      return [
        `container ${c.name} terminated: ${terminated.reason ?? 'Error'} (exit code ${terminated.exitCode})${message}`,
      ];
    },
  );
  const reasons = [status.reason, status.message].filter((r): r is string => r !== undefined && r !== '');
  const what = [...reasons.map((r) => cut(r)), ...containers].join(', ');
  return `pod ${pod.metadata.name} ${status.phase ?? 'Unknown'}${what === '' ? '' : `: ${what}`}`;
}
