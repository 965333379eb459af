import { randomBytes } from 'node:crypto';
import { applyRevision } from '../apply/engine.ts';
import { ApplyFailed, RevisionRejected } from '../apply/errors.ts';
import type { InventoryEntry, ObjectResult } from '../apply/inventory.ts';
import { pruneObjects } from '../apply/prune.ts';
import { describeUnhealthy, waitForHealth } from '../apply/wait.ts';
import { type Config, findEnvironment } from '../config.ts';
import type { DeployJob } from '../jobs.ts';
import { describeRef, type KubeObject, refKey, refOf } from '../objects.ts';
import {
  type ClusterConnector,
  type DeploymentRecord,
  type EnvironmentKey,
  type EnvironmentStore,
  GitFetchError,
  type GitSource,
  type SecretSource,
} from '../ports.ts';
import { RenderError, type RenderTools, render } from './render.ts';
import { remoteOf, renderRequestOf } from './source.ts';

export interface DeployDependencies {
  readonly config: Config;
  readonly store: EnvironmentStore;
  readonly git: GitSource;
  readonly secrets: SecretSource;
  readonly clusters: ClusterConnector;
  readonly tools: RenderTools;
}

/** Another worker holds the environment: the job is retried later, not recorded. */
export class EnvironmentBusy extends Error {
  override name = 'EnvironmentBusy';
}

/** A deployment that cannot go on; recorded as failed with this message. */
class DeployFailure extends Error {
  override name = 'DeployFailure';
  readonly results: readonly ObjectResult[];
  constructor(message: string, results: readonly ObjectResult[] = []) {
    super(message);
    this.results = results;
  }
}

const short = (commit: string) => commit.slice(0, 12);

/**
 * Turns one job into a recorded deployment: fetch the commit, render, validate, apply in stages, prune,
 * wait for health, record. Bad input (a missing commit, a YAML error, a rejected object, a failed roll-out)
 * is a failed deployment with its message; only infrastructure errors (state store, lock) throw, so that the
 * queue retries the job.
 */
export async function deploy(
  job: DeployJob,
  deps: DeployDependencies,
  options: { readonly supersededInQueue?: boolean } = {},
): Promise<DeploymentRecord> {
  const key: EnvironmentKey = { app: job.app, environment: job.environment, part: job.part };
  const id = `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const finish = <R extends DeploymentRecord['result']>(
    result: R,
    message: string,
    results: readonly ObjectResult[] = [],
  ) => ({
    id,
    key,
    commit: job.commit,
    ref: job.ref,
    trigger: job.trigger,
    startedAt,
    finishedAt: new Date().toISOString(),
    result,
    message,
    objects: results.map((r) => ({
      object: describeRef(r.ref),
      action: r.action,
      ...(r.message === undefined ? {} : { message: r.message }),
    })),
  });

  const found = findEnvironment(deps.config, job.app, job.environment);
  if (options.supersededInQueue && job.trigger.kind !== 'rollback') {
    const record = finish(
      'superseded',
      `superseded by a newer job for ${job.app}/${job.environment} in the queue`,
    );
    await deps.store.appendHistory(record);
    return record;
  }
  if (found === undefined) {
    const record = finish(
      'failed',
      `no environment ${job.environment} of app ${job.app} in the configuration`,
    );
    await deps.store.appendHistory(record);
    return record;
  }
  const { app, environment } = found;
  const lockSeconds = environment.healthTimeoutSeconds + 15 * 60;
  if (!(await deps.store.lock(key, id, lockSeconds))) {
    throw new EnvironmentBusy(`${job.app}/${job.environment} is being deployed by another worker`);
  }
  try {
    const state = await deps.store.get(key);
    const remote = await remoteOf(deps.config, deps.secrets, app).catch((error: unknown) => {
      throw new DeployFailure(error instanceof Error ? error.message : String(error));
    });
    const checkout = await deps.git.checkout(remote, job.commit).catch((error: unknown) => {
      throw error instanceof GitFetchError ? new DeployFailure(error.message) : error;
    });
    try {
      const last = state?.lastApplied;
      if (job.trigger.kind !== 'rollback' && last !== undefined && checkout.commitTime < last.commitTime) {
        const record = finish(
          'superseded',
          `commit ${short(job.commit)} is older than the last applied ${short(last.commit)}; not applied (a rollback would be)`,
        );
        await deps.store.appendHistory(record);
        return record;
      }
      const { request, objects } = await (async () => {
        const request = renderRequestOf(app, environment, job.part, checkout.dir);
        return { request, ...(await render(request, deps.tools)) };
      })().catch((error: unknown) => {
        throw error instanceof RenderError ? new DeployFailure(`render failed: ${error.message}`) : error;
      });
      if (objects.length === 0 && !environment.allowEmpty) {
        throw new DeployFailure(
          `${request.path} rendered no objects at ${short(job.commit)}; refusing to apply an empty revision, which would prune everything (set allowEmpty to allow it)`,
        );
      }

      const cluster = await deps.clusters.connect(clusterOf(deps.config, environment.cluster));
      const owner = { app: app.name, environment: environment.name, part: job.part };
      const previous = state?.inventory ?? [];
      const applied = await applyRevision(objects, {
        cluster,
        owner,
        defaultNamespace: environment.namespace,
        previous,
        recreateOnImmutableChange: environment.recreateOnImmutableChange,
      }).catch((error: unknown) => {
        if (error instanceof RevisionRejected) throw new DeployFailure(error.message, error.rejections);
        if (error instanceof ApplyFailed) throw new DeployFailure(error.message, error.results);
        throw error;
      });

      const pruneEnabled = job.part === 'config' ? (environment.config?.prune ?? true) : environment.prune;
      const pruned = pruneEnabled
        ? await pruneObjects(previous, applied.inventory, {
            cluster,
            owner,
            allowPersistentVolumeClaims: environment.prunePersistentVolumeClaims,
          })
        : [];
      const results = [...applied.results, ...pruned];
      const { live, unhealthy } = await waitForHealth(
        cluster,
        applied.live,
        environment.healthTimeoutSeconds * 1000,
      );
      const failedPrunes = pruned.filter((r) => r.action === 'failed');
      const problems = [
        ...(unhealthy.length > 0
          ? [`not healthy after ${environment.healthTimeoutSeconds}s:\n${describeUnhealthy(unhealthy)}`]
          : []),
        ...failedPrunes.map((r) => r.message ?? ''),
      ];
      const record = finish(
        problems.length > 0 ? 'failed' : 'succeeded',
        problems.length > 0 ? problems.join('\n') : `applied ${short(job.commit)}: ${summarise(results)}`,
        results,
      );
      await deps.store.recordDeployment(record, {
        commit: {
          commit: job.commit,
          ref: job.ref,
          commitTime: checkout.commitTime,
          deploymentId: id,
          appliedAt: record.finishedAt,
        },
        inventory: keepUnpruned(withSettledVersions(applied.inventory, live), previous, pruned),
        desired: applied.desired,
      });
      return record;
    } finally {
      await checkout.dispose();
    }
  } catch (error) {
    if (!(error instanceof DeployFailure)) {
      // Best effort, so that the environment's history shows why a job is retried or lands in the DLQ.
      const message = `attempt failed, the job will be retried: ${error instanceof Error ? error.message : String(error)}`;
      await deps.store.recordDeployment(finish('failed', message)).catch(() => undefined);
      throw error;
    }
    const record = finish('failed', error.message, error.results);
    await deps.store.recordDeployment(record);
    return record;
  } finally {
    await deps.store.unlock(key, id);
  }
}

function clusterOf(config: Config, name: string) {
  const cluster = config.clusters.find((c) => c.name === name);
  if (cluster === undefined) throw new DeployFailure(`no cluster ${name} in the configuration`);
  return cluster;
}

function summarise(results: readonly ObjectResult[]): string {
  const counts = new Map<string, number>();
  for (const { action } of results) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts].map(([action, count]) => `${count} ${action}`).join(', ') || 'no objects';
}

/** Records the resourceVersions objects settled at once healthy, so an untouched one is known unchanged next time. */
function withSettledVersions(
  inventory: readonly InventoryEntry[],
  live: readonly KubeObject[],
): InventoryEntry[] {
  const versions = new Map(live.map((object) => [refKey(refOf(object)), object.metadata.resourceVersion]));
  return inventory.map((entry) => {
    const resourceVersion = versions.get(refKey(entry));
    return resourceVersion === undefined ? entry : { ...entry, resourceVersion };
  });
}

/** Objects whose prune failed stay in the inventory, so the next deployment tries again. */
function keepUnpruned(
  next: readonly InventoryEntry[],
  previous: readonly InventoryEntry[],
  pruned: readonly ObjectResult[],
): InventoryEntry[] {
  const failed = new Set(pruned.filter((r) => r.action === 'failed').map((r) => describeRef(r.ref)));
  return [...next, ...previous.filter((entry) => failed.has(describeRef(entry)))];
}
