// What a part waits for before it deploys, shared by deploy and reconcile: the environment it follows (what
// that one has run healthily long enough), and the environments it depends on (each Synced at its latest
// revision). Waiting holds nothing: the deployment is recorded as waiting and the job ends; a dependency's
// successful deployment enqueues the dependents it releases, and every check looks again.
import type { Config } from '../config.ts';
import { short } from '../model/commit.ts';
import { createJob, type DeployJob } from '../model/job.ts';
import { type ConfiguredPart, findPart, type PartKey, partId, partsOf } from '../model/part.ts';
import type { DeploymentRecord, EnvironmentState } from '../model/records.ts';
import { RefsCache, remoteOf, type SourceDependencies } from '../source/revision.ts';
import { promotion, trackedHead } from '../source/tracked-ref.ts';
import { decide, type Followed } from './decide.ts';

export interface GateDependencies extends SourceDependencies {
  readonly store: { get(key: PartKey): Promise<EnvironmentState | undefined> };
}

/** The part a follower's part follows: the same part of the followed environment, else its app part. */
export function leaderOf(config: Config, key: PartKey): PartKey | undefined {
  const followed = findPart(config, key)?.environment.follow?.environment;
  if (followed === undefined) return undefined;
  const leader = findPart(config, { ...key, environment: followed });
  return { ...key, environment: followed, part: leader === undefined ? 'app' : key.part };
}

/**
 * Where a part's environment points it (a pin aside): the head of its tracked ref, or for a follower the
 * commit it may be promoted to.
 */
export async function headFor(
  deps: GateDependencies,
  part: ConfiguredPart,
  key: PartKey,
  refs: RefsCache,
  now: number,
): Promise<Followed> {
  const { follow, trigger } = part.environment;
  if (follow === undefined) {
    const remote = await remoteOf(deps.config, deps.secrets, part.app);
    return { target: trackedHead(trigger, await refs.list(deps.git, remote)) };
  }
  const leader = leaderOf(deps.config, key);
  const promoted = promotion(follow, leader === undefined ? undefined : await deps.store.get(leader), now);
  return promoted.kind === 'ready' ? { target: promoted.target } : { waiting: promoted.message };
}

/** Why a dependency part is not ready (Synced at its latest revision), or undefined when it is. */
async function notReady(
  deps: GateDependencies,
  key: PartKey,
  refs: RefsCache,
  now: number,
): Promise<string | undefined> {
  const part = findPart(deps.config, key);
  if (part === undefined) return 'is not configured';
  const state = await deps.store.get(key);
  const last = state?.lastApplied;
  if (state === undefined || last === undefined) return 'has applied nothing yet';
  if (state.sync.status !== 'Synced') return `is ${state.sync.status}`;
  const latest = state.pin?.commit ?? (await headFor(deps, part, key, refs, now)).target?.commit;
  if (latest !== undefined && latest !== last.commit)
    return `runs ${short(last.commit)}, its latest revision is ${short(latest)}`;
  return undefined;
}

/**
 * What a part waits for among its environment's dependencies (every part of each), or undefined when each is
 * Synced at its latest revision.
 */
export async function dependencyWait(
  deps: GateDependencies,
  part: ConfiguredPart,
  refs: RefsCache,
  now: number,
): Promise<string | undefined> {
  const reasons: string[] = [];
  for (const { app, environment } of part.environment.dependsOn ?? []) {
    const found = findPart(deps.config, { app, environment, part: 'app' });
    const parts = found === undefined ? ['app' as const] : partsOf(found.environment);
    for (const name of parts) {
      const key = { app, environment, part: name };
      const reason = await notReady(deps, key, refs, now);
      if (reason !== undefined) reasons.push(`${partId(key)} ${reason}`);
    }
  }
  return reasons.length === 0 ? undefined : `waiting for ${reasons.join('; ')}`;
}

/** The parts of the environments that depend on the environment of `key`. */
export function dependentsOf(config: Config, key: PartKey): PartKey[] {
  return config.apps.flatMap((app) =>
    app.environments
      .filter((env) => env.dependsOn?.some((d) => d.app === key.app && d.environment === key.environment))
      .flatMap((env) => partsOf(env).map((part) => ({ app: app.name, environment: env.name, part }))),
  );
}

/**
 * The jobs that a dependency's successful deployment (`record`) releases: one for each dependent part that is
 * behind its environment's head and would be applied (not pinned, suspended or rejected there).
 */
export async function releasedBy(
  deps: GateDependencies,
  record: DeploymentRecord,
  refs: RefsCache = new RefsCache(),
): Promise<DeployJob[]> {
  const jobs: DeployJob[] = [];
  const now = Date.now();
  for (const key of dependentsOf(deps.config, record.key)) {
    const part = findPart(deps.config, key);
    if (part === undefined || part.environment.suspend || !part.settings.autoSync) continue;
    const [state, head] = await Promise.all([deps.store.get(key), headFor(deps, part, key, refs, now)]);
    if (head.target === undefined) continue;
    const checkId = `after.${partId(record.key)}.${record.id}`;
    const job = createJob(key, head.target, { kind: 'reconcile', checkId, reason: 'new-commit' });
    const remote = await remoteOf(deps.config, deps.secrets, part.app);
    const decision = decide(job, part.environment, state, await refs.list(deps.git, remote), head);
    if (decision.kind === 'apply') jobs.push(job);
  }
  return jobs;
}
