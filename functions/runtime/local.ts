// The local mode's composition root, beside the AWS one (`aws.ts`): the same core use cases (intake, deploy,
// reconcile) wired to the local adapters. The state directory holds the SQLite store and deploy queue and the
// Git cache; clusters are reached through kubeconfig files (or EKS, with AWS credentials); secrets come from
// the environment or a file; jobs run in an in-process worker and checks on an in-process schedule. Nothing
// here decides what a deployment does.
import { join } from 'node:path';
import { eksClusterAccess } from '../adapters/aws/eks-connection.ts';
import { pullRequestHosts } from '../adapters/comments/pull-requests.ts';
import { IsomorphicGitSource } from '../adapters/git/isomorphic-git-source.ts';
import { KubernetesClusterConnector } from '../adapters/kubernetes/cluster-connector.ts';
import { openDatabase } from '../adapters/local/database.ts';
import { JobWorker, type JobWorkerOptions } from '../adapters/local/job-worker.ts';
import type { Logger } from '../adapters/local/logger.ts';
import { ReconcileScheduler, type TickSchedule } from '../adapters/local/reconcile-scheduler.ts';
import { type ClaimedJob, SqliteJobQueue } from '../adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../adapters/local/sqlite-store.ts';
import { webhookNotifiers } from '../adapters/notify/webhook.ts';
import { onFeedbackFailure } from '../adapters/status/failures.ts';
import { statusPageLink } from '../adapters/status/links.ts';
import { statusReporters } from '../adapters/status/reporters.ts';
import { layerManifestTools, UNTRUSTED_RENDER } from '../adapters/tools/layer-tools.ts';
import type { Config } from '../core/config.ts';
import { type DeployDependencies, deploy, EnvironmentBusy } from '../core/deploy/deploy.ts';
import { Feedback } from '../core/feedback/feedback.ts';
import { createIntake, type Intake } from '../core/intake/intake.ts';
import type { EnvironmentCheck } from '../core/model/check.ts';
import type { CommitStatus } from '../core/model/feedback.ts';
import { isPlanJob } from '../core/model/job.ts';
import { partId } from '../core/model/part.ts';
import type { DeploymentRecord } from '../core/model/records.ts';
import { type PlanJobDependencies, type PlanReport, planLogFields, runPlanJob } from '../core/plan/run.ts';
import type { GitSource, ManifestTools, SecretSource } from '../core/ports.ts';
import { type CheckDependencies, checkEnvironment } from '../core/reconcile/check.ts';
import { planChecks } from '../core/reconcile/schedule.ts';
import { RefsCache } from '../core/source/revision.ts';

/** The adapters over one state directory: enough to enqueue a job and to list a repository's refs. */
export interface LocalState {
  readonly dir: string;
  readonly store: SqliteStore;
  readonly queue: SqliteJobQueue;
  readonly git: GitSource;
  close(): void;
}

export function openLocalState(dir: string): LocalState {
  const db = openDatabase(dir);
  return {
    dir,
    store: new SqliteStore(db),
    queue: new SqliteJobQueue(db),
    git: new IsomorphicGitSource(join(dir, 'git')),
    close: () => db.close(),
  };
}

export interface LocalRuntimeOptions {
  readonly config: Config;
  readonly secrets: SecretSource;
  readonly logger: Logger;
}

/** What a job of the local queue leaves: a deployment's record, or a plan's report. */
export type JobResult = DeploymentRecord | PlanReport;

/** What a worker of the runtime may be told: how many parts at once, which part only, and who to tell. */
export type LocalWorkerOptions = Pick<JobWorkerOptions<JobResult>, 'concurrency' | 'group' | 'onSettled'>;

/** How long closing the runtime waits for commit statuses still being posted. */
const FEEDBACK_SETTLE_MS = 5_000;

/** The core wired to the local adapters: the intake, deploy workers and the reconcile schedule. */
export class LocalRuntime {
  readonly #state: LocalState;
  readonly #options: LocalRuntimeOptions;
  readonly #clusters: KubernetesClusterConnector;
  readonly #feedback: Feedback;
  readonly #deps: DeployDependencies & CheckDependencies;
  readonly #plans: PlanJobDependencies;
  #statusPage: ((status: CommitStatus) => string) | undefined;
  #failedStatusPosts = 0;

  private constructor(
    state: LocalState,
    options: LocalRuntimeOptions,
    tools: ManifestTools,
    planTools: ManifestTools,
  ) {
    const { config, secrets, logger } = options;
    this.#state = state;
    this.#options = options;
    // EKS clusters work too where AWS credentials are at hand.
    this.#clusters = new KubernetesClusterConnector({ eks: eksClusterAccess });
    this.#feedback = new Feedback({
      config,
      secrets,
      reporters: statusReporters(),
      notifiers: webhookNotifiers(config, secrets),
      targetUrl: (status) => this.#statusPage?.(status),
      onFailure: onFeedbackFailure(logger, (what) => {
        if (what === 'status') this.#failedStatusPosts++;
      }),
    });
    this.#deps = {
      config,
      secrets,
      git: state.git,
      tools,
      store: state.store,
      queue: state.queue,
      clusters: this.#clusters,
      feedback: this.#feedback,
    };
    this.#plans = { ...this.#deps, tools: planTools, hosts: pullRequestHosts() };
  }

  /** Wires the runtime; finds (or first unpacks) kubectl and helm. */
  static async start(state: LocalState, options: LocalRuntimeOptions): Promise<LocalRuntime> {
    options.logger.info('preparing kubectl and helm');
    const [tools, planTools] = await Promise.all([
      layerManifestTools(),
      layerManifestTools(UNTRUSTED_RENDER),
    ]);
    return new LocalRuntime(state, options, tools, planTools);
  }

  /** Commit statuses link to the status page of the server at `serverUrl` from now on. */
  linkStatusesTo(serverUrl: string): void {
    this.#statusPage = statusPageLink(serverUrl);
  }

  /** Commit statuses that could not be posted, after every try, since the start. */
  get failedStatusPosts(): number {
    return this.#failedStatusPosts;
  }

  /** The webhook intake, answering as the webhook function does. */
  intake(): Intake {
    const { config, secrets, logger } = this.#options;
    return createIntake({
      config,
      queue: this.#state.queue,
      deliveries: this.#state.store,
      secrets,
      logger,
      feedback: this.#feedback,
    });
  }

  /**
   * A worker over the state's queue that deploys each job. A deployment throws its transient failures: those
   * are retried with backoff and dead-lettered at last; a part busy with another worker only postpones the job.
   */
  worker(options: LocalWorkerOptions = {}): JobWorker<JobResult> {
    const { logger } = this.#options;
    const run = (claimed: ClaimedJob) =>
      isPlanJob(claimed.job) ? this.#plan(claimed) : this.#deploy(claimed);
    return new JobWorker<JobResult>(this.#state.queue, run, {
      ...options,
      logger,
      postpones: (error) => error instanceof EnvironmentBusy,
    });
  }

  async #deploy(claimed: ClaimedJob): Promise<DeploymentRecord> {
    const { logger } = this.#options;
    const { job } = claimed;
    const context = { job: claimed.id, group: claimed.group, attempt: claimed.attempt };
    logger.info('deployment started', {
      ...context,
      commit: job.commit,
      ref: job.ref,
      trigger: job.trigger.kind,
    });
    const record = await deploy(job, this.#deps);
    (record.result === 'failed' ? logger.warn : logger.info)('deployment finished', {
      ...context,
      commit: record.commit,
      requested: record.requestedCommit,
      result: record.result,
      deployment: record.id,
      detail: record.message,
    });
    return record;
  }

  /** A plan job: the pull request's comment and the plan's status written, nothing applied. */
  async #plan(claimed: ClaimedJob): Promise<PlanReport> {
    const { job } = claimed;
    if (!isPlanJob(job)) throw new Error(`job ${claimed.id} is not a plan job`);
    const report = await runPlanJob(job, this.#plans);
    this.#options.logger.info('plan finished', {
      job: claimed.id,
      group: claimed.group,
      ...planLogFields(report),
    });
    return report;
  }

  /** The schedule of checks: every part of every environment, at the schedule's times, each after its jitter. */
  scheduler(schedule: TickSchedule): ReconcileScheduler<EnvironmentCheck, RefsCache> {
    const { config, logger } = this.#options;
    return new ReconcileScheduler<EnvironmentCheck, RefsCache>({
      schedule,
      logger,
      plan: (tickId, now) => planChecks(config, tickId, now),
      newTick: () => new RefsCache(),
      keyOf: partId,
      run: async (check, refs) => {
        const result = await checkEnvironment(check, this.#deps, refs);
        (result.action === 'error' ? logger.warn : logger.info)('environment checked', {
          group: partId(check),
          action: result.action,
          head: result.headCommit,
          drifted: result.drifted.length,
          detail: result.message,
        });
      },
    });
  }

  /**
   * Waits (a few seconds at most) for the commit statuses still being posted, then closes the cluster
   * connections; the state stays open for its owner to close.
   */
  async close(): Promise<void> {
    await this.#feedback.settle(FEEDBACK_SETTLE_MS);
    this.#clusters.close();
  }
}
