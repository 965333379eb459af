// Push to live: what a user waits for, from `git push` to the change applied and healthy. A 20-object app (7
// Deployments, 7 Services, 6 ConfigMaps) changes at each push (every pod template and every ConfigMap), and the
// clock runs from the push until Ferry has applied every object and seen it Current (the test bed plays the
// deployment controller: a roll-out is done once its status is written, within its 100 ms round), then the
// bench checks each object itself. Two paths:
// - the local mode: `ferry serve` in a process of its own, the push told by a signed GitHub webhook over HTTP;
// - AWS: the webhook and worker functions' real handlers in this process over moto's SQS FIFO queue and
//   DynamoDB table, the job received from the queue as the event source mapping receives it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { healthOf } from '../functions/core/apply/health.ts';
import { refOf } from '../functions/core/objects.ts';
import { deleteMessage, workerContext } from '../test/support/sqs-worker.ts';
import { lambdaContext } from '../test/support/webhooks.ts';
import { APP_OBJECTS, appObjects, createSite, type Site } from './site.ts';
import {
  captureOutput,
  ms,
  percentile,
  pick,
  quickNote,
  ROOT,
  table,
  testbedCluster,
  verdict,
} from './support.ts';

const PUSHES = pick(30, 5);
const GOAL_MS = 2000;

/** The stages of one push, in milliseconds from its start. */
interface Push {
  readonly pushed: number;
  readonly accepted: number;
  readonly live: number;
}

/** Checks, outside Ferry, that every object of the app is at `revision` and Current. */
async function verifyLive(site: Site, revision: number): Promise<void> {
  const { api, cluster } = testbedCluster();
  const app = site.apps[0] ?? '';
  try {
    for (const object of appObjects(app, site.namespace, revision)) {
      const live = await cluster.get(refOf(object));
      const seen =
        live?.kind === 'ConfigMap'
          ? (live as { data?: Record<string, string> }).data?.revision
          : live?.kind === 'Deployment'
            ? (
                live as unknown as {
                  spec: { template: { metadata: { annotations: Record<string, string> } } };
                }
              ).spec.template.metadata.annotations['ferry.bench/revision']
            : String(revision);
      if (live === undefined || seen !== String(revision) || healthOf(live).status !== 'Current')
        throw new Error(`${object.kind} ${object.metadata.name} is not live at revision ${revision}`);
    }
  } finally {
    api.close();
  }
}

/** `ferry serve` on the site's local configuration; its JSON log lines are handed to the listeners. */
async function serve(site: Site): Promise<{
  url: string;
  next(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}> {
  const { configFile, secretsFile } = await site.localFiles();
  const stateDir = join(await mkdtemp(join(tmpdir(), 'ferry-bench-serve-')), 'state');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/ferry.ts'),
      'serve',
      '--config',
      configFile,
      '--state-dir',
      stateDir,
      '--secrets',
      secretsFile,
      '--port',
      '0',
      '--no-reconcile',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const waiting = new Set<{
    predicate: (line: Record<string, unknown>) => boolean;
    done: (line: Record<string, unknown>) => void;
  }>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    if (!text.startsWith('{')) return;
    const line = JSON.parse(text) as Record<string, unknown>;
    for (const waiter of waiting)
      if (waiter.predicate(line)) {
        waiting.delete(waiter);
        waiter.done(line);
      }
  });
  const next = (predicate: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('ferry serve said nothing of it in 60 s')), 60_000);
      waiting.add({
        predicate,
        done: (line) => {
          clearTimeout(timer);
          done(line);
        },
      });
    });
  const started = await next((line) => line.message === 'ferry local mode started');
  return {
    url: String(started.url),
    next,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await exited;
    },
  };
}

async function localMode(): Promise<Push[]> {
  const site = await createSite({ apps: 1 });
  const server = await serve(site);
  const rollouts = site.rollouts();
  const pushes: Push[] = [];
  try {
    let before = '0'.repeat(40);
    for (let revision = 1; revision <= PUSHES + 1; revision++) {
      const commit = await site.commit(revision);
      const finished = server.next(
        (line) => line.message === 'deployment finished' && line.commit === commit,
      );
      const started = performance.now();
      await site.publish();
      const pushed = performance.now() - started;
      const delivery = site.githubDelivery(commit, before);
      const answer = await fetch(`${server.url}/webhook`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      const accepted = performance.now() - started;
      if (answer.status !== 202)
        throw new Error(`ferry serve answered ${answer.status}: ${await answer.text()}`);
      const line = await finished;
      const live = performance.now() - started;
      if (line.result !== 'succeeded')
        throw new Error(`the deployment ended ${String(line.result)}: ${String(line.detail)}`);
      await verifyLive(site, revision);
      // The first push creates the objects: not what a user waits for at each change.
      if (revision > 1) pushes.push({ pushed, accepted, live });
      before = commit;
    }
  } finally {
    await rollouts.stop();
    await server.stop();
  }
  return pushes;
}

async function awsPath(): Promise<Push[]> {
  const site = await createSite({ apps: 1 });
  Object.assign(process.env, site.env, { POWERTOOLS_LOG_LEVEL: 'INFO' });
  const [{ handler: webhook }, { handler: worker }] = await Promise.all([
    import('../functions/webhook/handler.ts'),
    import('../functions/worker/handler.ts'),
  ]);
  const rollouts = site.rollouts();
  const pushes: Push[] = [];
  try {
    let before = '0'.repeat(40);
    for (let revision = 1; revision <= PUSHES + 1; revision++) {
      const commit = await site.commit(revision);
      const started = performance.now();
      await site.publish();
      const pushed = performance.now() - started;
      // The functions' logs go to Lambda's log stream: kept off the bench's output.
      const output = captureOutput();
      let accepted = 0;
      let live = 0;
      try {
        const answer = await webhook(site.delivery(commit, before), lambdaContext());
        accepted = performance.now() - started;
        if (answer.statusCode !== 202)
          throw new Error(`the webhook answered ${answer.statusCode}: ${answer.body}`);
        const event = await site.receiveJobs();
        const response = await worker(event, workerContext(900_000));
        live = performance.now() - started;
        if (response.batchItemFailures.length > 0)
          throw new Error(`the worker failed: ${output.text().slice(-2000)}`);
        for (const record of event.Records) await deleteMessage(site.deployQueueUrl, record.receiptHandle);
      } finally {
        output.restore();
      }
      await verifyLive(site, revision);
      if (revision > 1) pushes.push({ pushed, accepted, live });
      before = commit;
    }
  } finally {
    await rollouts.stop();
  }
  return pushes;
}

const local = await localMode();
const aws = await awsPath();

console.log(
  `${PUSHES} pushes of a ${APP_OBJECTS}-object app (every Deployment's pod template and every ConfigMap changed at ` +
    'each), each timed from `git push` to every object applied and Current, then checked by the bench',
);
const row = (name: string, pushes: readonly Push[]) => {
  const live = pushes.map((p) => p.live);
  const p50 = percentile(live, 50);
  return [
    name,
    ms(p50),
    ms(percentile(live, 95)),
    ms(Math.max(...live)),
    ms(
      percentile(
        pushes.map((p) => p.pushed),
        50,
      ),
    ),
    ms(
      percentile(
        pushes.map((p) => p.accepted - p.pushed),
        50,
      ),
    ),
    `p50 < ${GOAL_MS} ms: ${verdict(p50 < GOAL_MS)}`,
  ];
};
table([
  ['push to live', 'p50', 'p95', 'max', 'git push (p50)', 'webhook answered (p50)', 'goal'],
  row('local mode (ferry serve)', local),
  row('AWS handlers in-process (moto SQS FIFO, DynamoDB)', aws),
]);
console.log(
  "Not included on AWS: API Gateway's and the SQS event source's own latency (the bench receives the job as soon " +
    'as it is sent) and a cold start (see cold-start.bench.ts). For comparison, users measured Argo CD without ' +
    'webhooks at a median of 43 s from merge to sync start.',
);
quickNote();
