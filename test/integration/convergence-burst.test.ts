// Converging under the queue's real semantics: signed pushes through the webhook Lambda, jobs on moto's SQS FIFO
// queue (groups, visibility, receive counts, redrive to a dead-letter queue) and the worker Lambda's handler
// draining it, against the test bed's Git server and apiserver. Every part must end at the newest commit of its
// tracked ref whatever order the jobs come in, never be seen rolled back, and keep one record per job.
//
// The worker's and the webhook's runtimes are built once per process, as in a warm container: every scenario of
// this file shares one configuration, one state table and one queue, set up in `before`.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbEnvironmentStore } from '../../functions/adapters/aws/dynamodb-environment-store.ts';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { type Config, type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { createJob, type DeployJob, retryDelayMs } from '../../functions/core/model/job.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import { DEPLOY_MAX_RECEIVE_COUNT } from '../../functions/names.ts';
import { handler as webhook } from '../../functions/webhook/handler.ts';
import { createStateTable } from '../support/aws.ts';
import { createTokenSecret } from '../support/deploy.ts';
import { GitWorkspace } from '../support/git.ts';
import { configMap, yaml } from '../support/manifests.ts';
import {
  createDeployQueueWithDeadLetters,
  type DrainReport,
  deleteMessage,
  drainWithWorker,
  invokeWorker,
  queueDepth,
  receiveMessages,
  sqsEvent,
  useWorkerEnvironment,
  type WorkerEnvironment,
} from '../support/sqs-worker.ts';
import {
  createNamespaces,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../support/testbed.ts';
import { apiEvent, githubDelivery, githubPush, lambdaContext } from '../support/webhooks.ts';
import { freePort } from '../testbed/process.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

/** A small seeded generator (mulberry32), so that a failing order can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Environment {
  readonly key: PartKey;
  readonly namespace: string;
}

interface Repository {
  readonly name: string;
  readonly workspace: GitWorkspace;
  readonly app: string;
  readonly environments: readonly Environment[];
}

interface Bed {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly worker: WorkerEnvironment;
  readonly store: DynamoDbEnvironmentStore;
  readonly webhookSecret: string;
  /** Three repositories of 4, 3 and 3 environments. */
  readonly burst: readonly Repository[];
  /** One app with environments `child-first` and `parent-first`. */
  readonly twins: Repository;
  readonly redelivered: Repository;
  /** An app whose repository URL points at a closed port. */
  readonly unreachable: Environment;
}

const environmentInput = (name: string, namespace: string) => ({
  name,
  cluster: 'testbed',
  namespace,
  trigger: { branches: ['main'] },
  healthTimeoutSeconds: 10,
});

async function setUpBed(): Promise<Bed> {
  const webhookSecret = randomUUID();
  const webhookSecretName = uniqueName('ferry/webhook');
  const [queues, table, kubeconfig, tokenSecret, closedPort] = await Promise.all([
    createDeployQueueWithDeadLetters(DEPLOY_MAX_RECEIVE_COUNT),
    createStateTable(),
    writeTestbedKubeconfig(),
    createTokenSecret(),
    freePort(),
    new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: webhookSecretName, SecretString: webhookSecret }),
    ),
  ]);
  const repository = async (environmentNames: readonly string[]): Promise<Repository> => {
    const name = uniqueName('repo');
    const app = uniqueName('app');
    return {
      name,
      app,
      workspace: await GitWorkspace.create(`tests/${name}`),
      environments: environmentNames.map((environment) => ({
        key: { app, environment, part: 'app' },
        namespace: uniqueName('ns'),
      })),
    };
  };
  const burst = await Promise.all([
    repository(['e0', 'e1', 'e2', 'e3']),
    repository(['e0', 'e1', 'e2']),
    repository(['e0', 'e1', 'e2']),
  ]);
  const twins = await repository(['child-first', 'parent-first']);
  const redelivered = await repository(['staging']);
  const unreachable: Environment = {
    key: { app: uniqueName('app'), environment: 'staging', part: 'app' },
    namespace: uniqueName('ns'),
  };
  const repositories = [...burst, twins, redelivered];
  const input: ConfigInput = {
    repositories: [
      ...repositories.map((r) => ({
        name: r.name,
        url: r.workspace.url,
        provider: 'github' as const,
        webhookSecret: webhookSecretName,
        tokenSecret,
      })),
      {
        name: 'unreachable',
        url: `http://127.0.0.1:${closedPort}/tests/unreachable.git`,
        provider: 'github',
        webhookSecret: webhookSecretName,
      },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [
      ...repositories.map((r) => ({
        name: r.app,
        repository: r.name,
        path: 'deploy',
        environments: r.environments.map((e) => environmentInput(e.key.environment, e.namespace)),
      })),
      {
        name: unreachable.key.app,
        repository: 'unreachable',
        path: 'deploy',
        environments: [environmentInput('staging', unreachable.namespace)],
      },
    ],
  };
  const config: Config = parseConfig(input);
  await createNamespaces(
    api,
    repositories.flatMap((r) => r.environments.map((e) => e.namespace)),
  );
  const worker = { config, table };
  // The webhook handler reads the same three variables; set them before its first invocation.
  useWorkerEnvironment(queues.queueUrl, worker);
  return {
    ...queues,
    worker,
    store: new DynamoDbEnvironmentStore(table),
    webhookSecret,
    burst,
    twins,
    redelivered,
    unreachable,
  };
}

/** The `v` of an environment's live ConfigMap `release`, or undefined while it does not exist. */
async function liveVersion(namespace: string): Promise<number | undefined> {
  const live = await api
    .request<{ data?: { v?: string } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/release`,
    })
    .catch(() => undefined);
  return live?.data?.v === undefined ? undefined : Number(live.data.v);
}

interface Probe {
  readonly name: string;
  /** The value observed now (a revision number), or undefined when there is none yet. */
  read(): Promise<number | undefined>;
}

/**
 * Polls every probe over and over while a scenario runs and remembers each one going backwards: what a person
 * watching the cluster or the status would have seen.
 */
interface Watched {
  /** Each time a probe was seen lower than before. */
  readonly regressions: readonly string[];
  readonly observations: number;
  /** Distinct values seen, summed over the probes. */
  readonly distinct: number;
}

function watchMonotonic(probes: readonly Probe[]): { stop(): Promise<Watched> } {
  const highest = new Map<string, number>();
  const values = new Map<string, Set<number>>();
  const regressions: string[] = [];
  let observations = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        probes.map(async (probe) => {
          const value = await probe.read();
          if (value === undefined) return;
          observations++;
          const before = highest.get(probe.name);
          if (before !== undefined && value < before)
            regressions.push(`${probe.name}: ${before} then ${value}`);
          highest.set(probe.name, Math.max(before ?? value, value));
          values.set(probe.name, (values.get(probe.name) ?? new Set()).add(value));
        }),
      );
      // A polling cadence, not a synchronisation: the watcher runs beside the scenario until it is stopped.
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const distinct = [...values.values()].reduce((sum, seen) => sum + seen.size, 0);
      return { regressions, observations, distinct };
    },
  };
}

/**
 * The errors of the jobs in a failed invocation, as Lambda would log them: Powertools' batch processor throws
 * one error for a batch whose every record failed, holding each record's error.
 */
const jobErrors = (error: unknown): string[] => {
  const records = (error as { recordErrors?: unknown[] }).recordErrors;
  return (records ?? [error]).map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
};

const history = (store: DynamoDbEnvironmentStore, key: PartKey) =>
  store.listDeployments(key, 100).then((records) => records.reverse());

const pushCommit = (workspace: GitWorkspace, commit: string) =>
  workspace.git('push', '--quiet', 'origin', `${commit}:refs/heads/main`);

const partName = ({ app, environment }: PartKey) => `${app}/${environment}`;

describe('convergence over the worker handler and SQS', () => {
  let bed: Bed;
  before(async () => {
    bed = await setUpBed();
  });

  test('random-order bursts across many environments end every environment at its newest commit, never rolled back', async (t) => {
    const seed = randomInt(2 ** 31);
    const next = random(seed);
    t.diagnostic(`seed ${seed}`);
    // Each repository gets 6 to 8 commits, each setting the ConfigMap's `v` to its number.
    const commits = new Map<Repository, string[]>();
    for (const repository of bed.burst) {
      const list: string[] = [await repository.workspace.commit({ 'README.md': 'burst\n' }, 'start')];
      const count = 6 + Math.floor(next() * 3);
      for (let v = 1; v <= count; v++) {
        list.push(
          await repository.workspace.commit({
            'deploy/cm.yaml': yaml(configMap('release', { v: String(v) })),
          }),
        );
      }
      await pushCommit(repository.workspace, list[0] as string);
      commits.set(repository, list);
    }
    // A schedule as a Git host makes one: each repository's pushes in order, each delivery after its push, and
    // otherwise any order: deliveries held back and retried late arrive after newer ones.
    type Step = { readonly kind: 'push' | 'deliver'; readonly repository: Repository; readonly v: number };
    const schedule: Step[] = [];
    const pushed = new Map(bed.burst.map((r) => [r, 0]));
    const ready: Step[] = [];
    for (;;) {
      const pushes = bed.burst
        .filter((r) => (pushed.get(r) ?? 0) < (commits.get(r)?.length ?? 0) - 1)
        .map((r) => ({ kind: 'push' as const, repository: r, v: (pushed.get(r) ?? 0) + 1 }));
      const candidates = [...pushes, ...ready];
      if (candidates.length === 0) break;
      const step = candidates[Math.floor(next() * candidates.length)] as Step;
      schedule.push(step);
      if (step.kind === 'push') {
        pushed.set(step.repository, step.v);
        ready.push({ kind: 'deliver', repository: step.repository, v: step.v });
      } else ready.splice(ready.indexOf(step), 1);
    }
    const late = schedule.filter(
      (step, i) =>
        step.kind === 'deliver' &&
        schedule
          .slice(0, i)
          .some((s) => s.kind === 'deliver' && s.repository === step.repository && s.v > step.v),
    ).length;

    const deliveries = new Map<Repository, Set<string>>(bed.burst.map((r) => [r, new Set()]));
    const send = async (step: Step) => {
      const list = commits.get(step.repository) ?? [];
      const commit = list[step.v] as string;
      if (step.kind === 'push') return void (await pushCommit(step.repository.workspace, commit));
      const id = randomUUID();
      deliveries.get(step.repository)?.add(id);
      const payload = githubPush({
        url: step.repository.workspace.url,
        commit,
        before: list[step.v - 1] as string,
        paths: ['deploy/cm.yaml'],
      });
      const answer = await webhook(
        apiEvent(githubDelivery(payload, { secret: bed.webhookSecret, id })),
        lambdaContext(),
      );
      assert.equal(answer.statusCode, 202, String(answer.body));
      const { jobs } = JSON.parse(String(answer.body)) as { jobs: unknown[] };
      assert.equal(jobs.length, step.repository.environments.length, String(answer.body));
    };

    const environments = bed.burst.flatMap((r) => r.environments.map((e) => ({ repository: r, ...e })));
    const watcher = watchMonotonic(
      environments.flatMap(({ repository, key, namespace }) => [
        { name: `live ${partName(key)}`, read: () => liveVersion(namespace) },
        {
          name: `lastApplied ${partName(key)}`,
          read: async () => {
            const commit = (await bed.store.get(key))?.lastApplied?.commit;
            return commit === undefined ? undefined : commits.get(repository)?.indexOf(commit);
          },
        },
      ]),
    );
    const started = Date.now();
    let drain: DrainReport;
    let watched: Watched;
    try {
      const producer = (async () => {
        for (const step of schedule) await send(step);
      })();
      [drain] = await Promise.all([
        drainWithWorker(bed.queueUrl, bed.worker, { concurrency: 4, until: producer, timeoutMs: 240_000 }),
        producer,
      ]);
    } finally {
      watched = await watcher.stop();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    const results = new Map<string, number>();
    for (const { repository, key, namespace } of environments) {
      const list = commits.get(repository) ?? [];
      const newest = list.at(-1) as string;
      assert.equal(await liveVersion(namespace), list.length - 1, `${partName(key)} live (seed ${seed})`);
      const state = await bed.store.get(key);
      assert.equal(state?.lastApplied?.commit, newest, `${partName(key)} lastApplied (seed ${seed})`);
      assert.equal(state?.sync.status, 'Synced', `${partName(key)}: ${state?.sync.message}`);
      const records = await history(bed.store, key);
      for (const r of records) results.set(r.result, (results.get(r.result) ?? 0) + 1);
      // One record per delivery: none lost, none doubled, none failed.
      const ids = records
        .map((r) => (r.trigger.kind === 'push' ? r.trigger.deliveryId : r.trigger.kind))
        .sort();
      assert.deepEqual(ids, [...(deliveries.get(repository) ?? [])].sort(), `${partName(key)} records`);
      assert.deepEqual(
        records.filter((r) => r.result !== 'succeeded' && r.result !== 'current').map((r) => r.message),
        [],
      );
    }
    assert.deepEqual(watched.regressions, [], `seen rolled back (seed ${seed})`);
    assert.ok(drain.drained, `the queue was not drained in ${drain.rounds} rounds`);
    assert.deepEqual(drain.groupOverlaps, [], 'the queue handed out two jobs of one part at once');
    assert.deepEqual(drain.errors.flatMap(jobErrors), [], 'no job failed, not even once');
    assert.equal(drain.failed, 0);
    assert.deepEqual(await queueDepth(bed.deadLetterQueueUrl), { visible: 0, inFlight: 0, delayed: 0 });
    t.diagnostic(
      `${environments.length} environments, ${schedule.length / 2} pushes and deliveries (${late} delivered after a newer one), ` +
        `${drain.received} jobs in ${drain.invocations} invocations, ${seconds}s; records: ${JSON.stringify(Object.fromEntries(results))}; ` +
        `watcher: ${watched.observations} observations, ${watched.distinct} distinct values`,
    );
  });

  test('same-second parent and child in either order end at the child', async (t) => {
    const { workspace, environments } = bed.twins;
    const [childFirst, parentFirst] = environments as [Environment, Environment];
    const queue = new SqsJobQueue(bed.queueUrl);
    const job = (environment: Environment, commit: string): DeployJob =>
      createJob(
        environment.key,
        { ref: 'refs/heads/main', commit },
        {
          kind: 'push',
          deliveryId: uniqueName('delivery'),
          provider: 'github',
        },
      );
    // Both commits in the same second, as a scripted merge makes them: committer time cannot order them.
    const date = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const saved = { author: process.env.GIT_AUTHOR_DATE, committer: process.env.GIT_COMMITTER_DATE };
    let parent: string;
    let child: string;
    try {
      process.env.GIT_AUTHOR_DATE = date;
      process.env.GIT_COMMITTER_DATE = date;
      parent = await workspace.commit({ 'deploy/cm.yaml': yaml(configMap('release', { v: '1' })) }, 'parent');
      child = await workspace.commit({ 'deploy/cm.yaml': yaml(configMap('release', { v: '2' })) }, 'child');
    } finally {
      for (const [name, value] of [
        ['GIT_AUTHOR_DATE', saved.author],
        ['GIT_COMMITTER_DATE', saved.committer],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const times = (await workspace.git('log', '--format=%ct', '-2')).trim().split('\n');
    assert.equal(new Set(times).size, 1, `committer times ${times.join(', ')}`);

    const watcher = watchMonotonic(
      environments.map((e) => ({ name: partName(e.key), read: () => liveVersion(e.namespace) })),
    );
    let watched: Watched;
    try {
      // Both parts first run the parent, while main points at it.
      await pushCommit(workspace, parent);
      await queue.enqueue([job(childFirst, parent), job(parentFirst, parent)]);
      const first = await drainWithWorker(bed.queueUrl, bed.worker, { concurrency: 2 });
      assert.ok(first.drained);
      for (const e of environments) assert.equal(await liveVersion(e.namespace), 1);
      // Then the child is pushed, and its job and a late one of the parent arrive, in either order.
      await pushCommit(workspace, child);
      await queue.enqueue([job(childFirst, child), job(childFirst, parent)]);
      await queue.enqueue([job(parentFirst, parent), job(parentFirst, child)]);
      const second = await drainWithWorker(bed.queueUrl, bed.worker, { concurrency: 2 });
      assert.ok(second.drained);
    } finally {
      watched = await watcher.stop();
    }
    assert.deepEqual(watched.regressions, []);
    const summary = (records: DeploymentRecord[]) =>
      records.map((r) => [
        r.result,
        r.commit === child ? 'child' : 'parent',
        r.requestedCommit === undefined ? 'own' : 'hint',
      ]);
    for (const e of environments) {
      assert.equal(await liveVersion(e.namespace), 2, partName(e.key));
      const state = await bed.store.get(e.key);
      assert.equal(state?.lastApplied?.commit, child);
      assert.equal(state?.sync.status, 'Synced');
    }
    assert.deepEqual(summary(await history(bed.store, childFirst.key)), [
      ['succeeded', 'parent', 'own'],
      ['succeeded', 'child', 'own'],
      ['current', 'child', 'hint'],
    ]);
    assert.deepEqual(summary(await history(bed.store, parentFirst.key)), [
      ['succeeded', 'parent', 'own'],
      ['succeeded', 'child', 'hint'],
      ['current', 'child', 'own'],
    ]);
    t.diagnostic(`committer time ${times[0]} for both; watcher: ${watched.observations} observations`);
  });

  test('a redelivered message leaves one record', async () => {
    const { workspace, environments } = bed.redelivered;
    const [environment] = environments as [Environment];
    const commit = await workspace.commit({ 'deploy/cm.yaml': yaml(configMap('release', { v: '1' })) });
    await pushCommit(workspace, commit);
    await new SqsJobQueue(bed.queueUrl).enqueue([
      createJob(
        environment.key,
        { ref: 'refs/heads/main', commit },
        {
          kind: 'push',
          deliveryId: uniqueName('delivery'),
          provider: 'github',
        },
      ),
    ]);
    // The first delivery succeeds, but its delete is lost (the function timed out answering, say): SQS delivers
    // the same message again once its visibility runs out.
    const [first] = await receiveMessages(bed.queueUrl, {
      max: 1,
      waitSeconds: 5,
      visibilityTimeoutSeconds: 1,
    });
    assert.ok(first !== undefined, 'the job was not received');
    const answer = await invokeWorker(bed.queueUrl, bed.worker, sqsEvent(bed.queueUrl, [first]));
    assert.deepEqual(answer.batchItemFailures, []);
    const [record] = await history(bed.store, environment.key);
    assert.equal(record?.result, 'succeeded', record?.message);
    const before = await bed.store.get(environment.key);
    const liveBefore = await api.request<{ metadata: { resourceVersion: string } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${environment.namespace}/configmaps/release`,
    });

    let again: Awaited<ReturnType<typeof receiveMessages>>[number] | undefined;
    for (let attempt = 0; attempt < 10 && again === undefined; attempt++)
      [again] = await receiveMessages(bed.queueUrl, { max: 1, waitSeconds: 2 });
    assert.ok(again !== undefined, 'the message was not redelivered');
    assert.equal(again.MessageId, first.MessageId);
    assert.equal(again.Body, first.Body);
    assert.equal(again.Attributes?.ApproximateReceiveCount, '2');
    const second = await invokeWorker(bed.queueUrl, bed.worker, sqsEvent(bed.queueUrl, [again]));
    assert.deepEqual(second.batchItemFailures, []);
    await deleteMessage(bed.queueUrl, again.ReceiptHandle ?? '');

    const records = await history(bed.store, environment.key);
    assert.deepEqual(
      records.map((r) => [r.id, r.result]),
      [[record.id, 'succeeded']],
    );
    const after = await bed.store.get(environment.key);
    assert.equal(after?.lastApplied?.deploymentId, record.id);
    assert.deepEqual(after?.lastApplied, before?.lastApplied);
    assert.deepEqual(after?.sync, before?.sync);
    const liveAfter = await api.request<{ metadata: { resourceVersion: string } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${environment.namespace}/configmaps/release`,
    });
    assert.equal(liveAfter.metadata.resourceVersion, liveBefore.metadata.resourceVersion);
  });

  test('a job that keeps failing transiently is retried with backoff and dead-lettered after the receive limit, each attempt recorded', async (t) => {
    const { key } = bed.unreachable;
    const job = createJob(
      key,
      { ref: 'refs/heads/main', commit: 'c'.repeat(40) },
      {
        kind: 'push',
        deliveryId: uniqueName('delivery'),
        provider: 'github',
      },
    );
    await new SqsJobQueue(bed.queueUrl).enqueue([job]);
    const drain = await drainWithWorker(bed.queueUrl, bed.worker, { timeoutMs: 120_000 });
    assert.ok(drain.drained, `not drained after ${drain.rounds} rounds, ${drain.durationMs} ms`);
    assert.deepEqual([...drain.receives.values()], [DEPLOY_MAX_RECEIVE_COUNT]);
    assert.equal(drain.failed, DEPLOY_MAX_RECEIVE_COUNT);
    assert.equal(drain.deleted, 0);
    assert.deepEqual(drain.groupOverlaps, []);
    // An invocation that throws (rather than answering with batchItemFailures) reports to Lambda, and to its
    // error log, the job's own failure.
    for (const error of drain.errors.flatMap(jobErrors))
      assert.match(error, /cannot list refs .*ECONNREFUSED/);

    const [dead, ...more] = await receiveMessages(bed.deadLetterQueueUrl, { max: 10, waitSeconds: 1 });
    assert.equal(more.length, 0);
    assert.equal(dead?.Body, JSON.stringify(job));

    const records = await history(bed.store, key);
    assert.deepEqual(
      records.map((r) => [r.jobId, r.result, r.failure]),
      Array.from({ length: DEPLOY_MAX_RECEIVE_COUNT }, () => [job.id, 'failed', 'transient']),
    );
    for (const r of records) assert.match(r.message, /attempt failed, the job will be retried/);
    // Each retry waited at least the handler's backoff (SQS visibility has whole seconds).
    const gaps = records
      .slice(1)
      .map((r, i) => Date.parse(r.startedAt) - Date.parse(records[i]?.finishedAt ?? ''));
    gaps.forEach((gap, i) => {
      assert.ok(gap >= retryDelayMs(i + 1) - 1000, `retry ${i + 1} came after ${gap} ms`);
    });
    const state = await bed.store.get(key);
    assert.equal(state?.sync.status, 'Failed');
    assert.equal(state?.sync.failure, 'transient');
    t.diagnostic(
      `${DEPLOY_MAX_RECEIVE_COUNT} attempts, gaps ${gaps.map((g) => `${(g / 1000).toFixed(1)}s`).join(', ')}, ` +
        `dead-lettered after ${(drain.durationMs / 1000).toFixed(1)}s; last message: ${records.at(-1)?.message}`,
    );
  });
});
