import { createHash, randomBytes } from 'node:crypto';
import { prepareObjects } from '../apply/engine.ts';
import { type Config, findEnvironment } from '../config.ts';
import { type RenderTools, render } from '../deploy/render.ts';
import { remoteOf, renderRequestOf } from '../deploy/source.ts';
import type { DeployJob } from '../jobs.ts';
import type {
  CheckRecord,
  CheckStore,
  ClusterConnector,
  EnvironmentCheck,
  EnvironmentKey,
  EnvironmentState,
  GitRemote,
  GitSource,
  JobQueue,
  SecretSource,
} from '../ports.ts';
import { detectDrift } from './drift.ts';
import { trackedHead } from './tracked-ref.ts';

export interface CheckDependencies {
  readonly config: Config;
  readonly store: CheckStore;
  readonly git: GitSource;
  readonly secrets: SecretSource;
  readonly clusters: ClusterConnector;
  readonly queue: JobQueue;
  readonly tools: RenderTools;
}

/** Remote refs listed once per repository within one batch of checks. */
export type RefsCache = Map<string, Promise<Map<string, string>>>;

const short = (commit: string) => commit.slice(0, 12);

/**
 * Compares one environment part with Git (has its tracked ref moved past the last applied commit?) and with
 * its cluster (has a live object drifted from the last applied revision?), then acts: enqueues a deploy
 * (auto-sync) or a heal (self-heal), or records OutOfSync. Every check is recorded; a failing one (Git or
 * cluster unreachable) is recorded as an error and tried again next tick, never thrown.
 */
export async function checkEnvironment(
  check: EnvironmentCheck,
  deps: CheckDependencies,
  refsCache: RefsCache = new Map(),
): Promise<CheckRecord> {
  const key: EnvironmentKey = { app: check.app, environment: check.environment, part: check.part };
  const id = `${check.tickId}-${randomBytes(3).toString('hex')}`;
  const at = new Date().toISOString();
  const found = findEnvironment(deps.config, check.app, check.environment);
  let state: EnvironmentState | undefined;
  let head: { ref: string; commit: string } | undefined;
  const record = async (
    action: CheckRecord['action'],
    message: string,
    drifted: CheckRecord['drifted'] = [],
    sync?: EnvironmentState['sync'],
  ): Promise<CheckRecord> => {
    const result: CheckRecord = {
      id,
      at,
      ...(head === undefined ? {} : { headCommit: head.commit, headRef: head.ref }),
      drifted,
      action,
      message,
    };
    await deps.store.recordCheck(key, result, sync);
    return result;
  };
  if (found === undefined)
    return record('error', `no environment ${check.environment} of app ${check.app} in the configuration`);
  const { app, environment } = found;
  const autoSync = check.part === 'config' ? (environment.config?.autoSync ?? true) : environment.autoSync;
  try {
    state = await deps.store.get(key);
    const remote = await remoteOf(deps.config, deps.secrets, app);
    head = trackedHead(environment.trigger, await listRefs(deps.git, remote, refsCache));
    const last = state?.lastApplied;

    if (head !== undefined && head.commit !== last?.commit) {
      const message = `${head.ref} is at ${short(head.commit)}, last applied ${last === undefined ? 'nothing' : short(last.commit)}`;
      if (!autoSync) {
        return record('out-of-sync', `${message}; autoSync is off, nothing applied`, [], {
          status: 'OutOfSync',
          message,
          at,
        });
      }
      await enqueue(deps.queue, key, head, { kind: 'reconcile', checkId: id, reason: 'new-commit' });
      return record('deploy', `${message}; deploy enqueued`);
    }
    if (last === undefined || state === undefined)
      return record('none', 'nothing applied yet, no commit to follow');

    const cluster = await deps.clusters.connect(clusterOf(deps.config, environment.cluster));
    const owner = { app: app.name, environment: environment.name, part: check.part };
    // For revisions too large to keep with the deployment: fetch and render the last applied commit again.
    const rerender = async () => {
      const checkout = await deps.git.checkout(remote, last.commit);
      try {
        const { objects } = await render(
          renderRequestOf(app, environment, check.part, checkout.dir),
          deps.tools,
        );
        return await prepareObjects(objects, { cluster, owner, defaultNamespace: environment.namespace });
      } finally {
        await checkout.dispose();
      }
    };
    const report = await detectDrift({
      cluster,
      owner,
      inventory: state.inventory,
      ignore: environment.ignoreDifferences,
      desired: async () => (await deps.store.getDesired(key)) ?? (await rerender()),
    });
    if (report.moved) await deps.store.refreshInventory(key, last.deploymentId, report.settled);
    if (report.drifted.length === 0) {
      const healed =
        state.sync.status === 'OutOfSync' ? { status: 'Synced' as const, message: 'in sync', at } : undefined;
      return record(
        'none',
        `in sync with ${short(last.commit)} (${report.dryRuns} object(s) dry-run)`,
        [],
        healed,
      );
    }
    const message = `${report.drifted.length} object(s) drifted from ${short(last.commit)}: ${report.drifted.map((d) => `${d.object} (${d.reason})`).join(', ')}`;
    if (environment.selfHeal && autoSync) {
      await enqueue(
        deps.queue,
        key,
        { ref: last.ref, commit: last.commit },
        { kind: 'reconcile', checkId: id, reason: 'drift' },
      );
      return record('heal', `${message}; re-apply enqueued`, report.drifted);
    }
    return record('out-of-sync', `${message}; selfHeal is off, nothing applied`, report.drifted, {
      status: 'OutOfSync',
      message,
      at,
    });
  } catch (error) {
    return record(
      'error',
      `check failed, tried again next tick: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function clusterOf(config: Config, name: string) {
  const cluster = config.clusters.find((c) => c.name === name);
  if (cluster === undefined) throw new Error(`no cluster ${name} in the configuration`);
  return cluster;
}

function listRefs(git: GitSource, remote: GitRemote, cache: RefsCache): Promise<Map<string, string>> {
  let refs = cache.get(remote.url);
  if (refs === undefined) {
    refs = git.listRefs(remote);
    cache.set(remote.url, refs);
  }
  return refs;
}

/** One reconcile job; deduplicated per check so that a retried check does not enqueue twice. */
async function enqueue(
  queue: JobQueue,
  key: EnvironmentKey,
  target: { ref: string; commit: string },
  trigger: DeployJob['trigger'],
): Promise<void> {
  const job: DeployJob = {
    ...key,
    ref: target.ref,
    commit: target.commit,
    trigger,
    enqueuedAt: new Date().toISOString(),
  };
  const deduplicationId = createHash('sha256')
    .update(
      `reconcile\n${key.app}\n${key.environment}\n${key.part}\n${target.commit}\n${trigger.kind === 'reconcile' ? trigger.reason : ''}`,
    )
    .digest('hex');
  await queue.enqueue([{ job, deduplicationId }]);
}
