// Scale: one configuration of 1,000 environment parts (a few that deploy, the rest on paper), one repository
// and one cluster.
// - The scheduler's fan-out of a tick: its handler's time and its SQS requests (batches, entries, bytes).
// - A push that triggers hundreds of parts at once: the webhook's answer time (Git hosts give up after 10 s).
// - Reconciler checks per minute at the stack's concurrency (its invocations of a batch each), the API server's
//   request rate they make on one cluster, and requests per check.
// - The largest inventory one DynamoDB item holds (gzipped), written through the real store to moto, and what
//   a deployment of 5,000 and of 10,000 objects (a part's cap) leaves in the table.
// The handlers run in this process over moto (counted at a proxy in front of it) and the test bed.
import { createHash, randomBytes } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbEnvironmentStore } from '../functions/adapters/aws/dynamodb-environment-store.ts';
import { SqsJobQueue } from '../functions/adapters/aws/sqs-job-queue.ts';
import type { InventoryEntry } from '../functions/core/model/inventory.ts';
import { createJob } from '../functions/core/model/job.ts';
import { partId } from '../functions/core/model/part.ts';
import type { DeploymentRecord } from '../functions/core/model/records.ts';
import { MAX_REVISION_OBJECTS } from '../functions/core/model/records.ts';
import { describeRef, refOf } from '../functions/core/objects.ts';
import { ownerLabels } from '../functions/core/ownership.ts';
import { RECONCILER_BATCH_SIZE, RECONCILER_MAX_CONCURRENCY } from '../lib/schedule.ts';
import { createStateTable } from '../test/support/aws.ts';
import { drainWithWorker } from '../test/support/sqs-worker.ts';
import { uniqueName } from '../test/support/testbed.ts';
import { lambdaContext } from '../test/support/webhooks.ts';
import { appObjects, createSite, tickEvent } from './site.ts';
import {
  type AwsCall,
  captureOutput,
  describeRequests,
  kb,
  ms,
  peakRate,
  pick,
  quickNote,
  recordRequests,
  startAwsCounter,
  table,
  timed,
} from './support.ts';

const PARTS = 1000;
const DEPLOYED = pick(50, 10);
/** The stack's reconciler: its concurrent invocations at most (maxConcurrency), of its batch size each. */
const CONCURRENCY = RECONCILER_MAX_CONCURRENCY;
const BATCH = RECONCILER_BATCH_SIZE;
const DYNAMODB_ITEM_BYTES = 400 * 1024;

const counter = await startAwsCounter();
process.env.AWS_ENDPOINT_URL = counter.endpoint;
const requests = recordRequests();
const site = await createSite({ apps: DEPLOYED, paperParts: PARTS - DEPLOYED, reconcileJitterSeconds: 60 });
// Both pushes now: git's child processes could not take the configuration in their environment, where a
// thousand parts are more than one variable holds (the stack defines it into the bundles instead). Every part
// on paper follows `release`.
const head = await site.push(1);
const release = await site.workspace.commit({ 'README.md': 'release\n' }, 'release');
await site.workspace.push('refs/heads/release');
Object.assign(process.env, site.env, { POWERTOOLS_LOG_LEVEL: 'INFO' });
const [{ handler: scheduler }, { handler: webhook }, { handler: reconciler }] = await Promise.all([
  import('../functions/scheduler/handler.ts'),
  import('../functions/webhook/handler.ts'),
  import('../functions/reconciler/handler.ts'),
]);
const parts = site.config.apps.reduce((sum, app) => sum + app.environments.length, 0);
const configBytes = Buffer.byteLength(site.env.FERRY_CONFIG_JSON ?? '');

/** Runs a handler with its logs kept off the bench's output. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const output = captureOutput();
  try {
    return await work();
  } finally {
    output.restore();
  }
}

const sends = (calls: readonly AwsCall[]) => calls.filter((c) => c.action.startsWith('SendMessage'));

// Fan-outs, their sends answered at once by a stand-in for SQS (moto slows down as a queue fills: its time would
// not be SQS's), so that the figures are the functions' own work plus a loopback round trip a batch. SQS's
// client sends to the queue URL's host: the functions are given the stand-in's.
const standIn = await startAwsCounter({ answerSends: true });
const viaStandIn = (url: string) =>
  Object.assign(new URL(url), { host: new URL(standIn.endpoint).host }).href;
process.env.FERRY_CHECK_QUEUE_URL = viaStandIn(site.checkQueueUrl);
process.env.FERRY_QUEUE_URL = viaStandIn(site.deployQueueUrl);
// The scheduler's tick, cold (the configuration parsed, clients made) and warm.
const tickCold = await timed(() => quietly(() => scheduler(tickEvent(), lambdaContext())));
const coldSends = sends(standIn.take());
const tickWarm = await timed(() => quietly(() => scheduler(tickEvent(), lambdaContext())));
const warmSends = sends(standIn.take());
// One push that triggers every part on paper: the webhook's fan-out, cold and warm (a new delivery).
const releaseDelivery = () => site.delivery(release, '0'.repeat(40), 'refs/heads/release');
const fanOutCold = await timed(() => quietly(() => webhook(releaseDelivery(), lambdaContext())));
standIn.take();
const fanOut = await timed(() => quietly(() => webhook(releaseDelivery(), lambdaContext())));
const fanOutSends = sends(standIn.take());
const fanOutAnswer = JSON.parse(fanOut.value.body ?? '{}') as { jobs?: unknown[]; skipped?: unknown[] };
const fanOutJobs = fanOutAnswer.jobs?.length ?? 0;
await standIn.stop();
Object.assign(process.env, {
  FERRY_CHECK_QUEUE_URL: site.checkQueueUrl,
  FERRY_QUEUE_URL: site.deployQueueUrl,
});

// Deploy the apps that deploy (their jobs enqueued as the webhook does, drained by the worker five at a time),
// then check them.
await new SqsJobQueue(site.deployQueueUrl).enqueue(
  site.apps.map((app) =>
    createJob(
      { app, environment: 'staging', part: 'app' },
      { ref: 'refs/heads/main', commit: head },
      { kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' },
    ),
  ),
);
counter.take();
const rollouts = site.rollouts();
const drained = await quietly(() =>
  drainWithWorker(
    site.deployQueueUrl,
    { config: site.config, table: site.table },
    { concurrency: CONCURRENCY },
  ),
);
await rollouts.stop();
// Every function has read its configuration by now.
delete process.env.FERRY_CONFIG_JSON;
if (!drained.drained || drained.failed > 0)
  throw new Error(`the deploys did not all succeed: ${drained.failed} failed`);

/** One round of checks of every deployed app: CONCURRENCY invocations at a time, BATCH checks each. */
async function checkRound(): Promise<{
  ms: number;
  sent: ReturnType<typeof requests.take>;
  calls: AwsCall[];
}> {
  requests.take();
  counter.take();
  const batches: string[][] = [];
  for (let i = 0; i < site.apps.length; i += BATCH) batches.push(site.apps.slice(i, i + BATCH));
  const round = await timed(() =>
    quietly(async () => {
      const queue = [...batches];
      const invoker = async () => {
        for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
          const response = await reconciler(site.checkEvent(batch), lambdaContext());
          if (response.batchItemFailures.length > 0) throw new Error('a check failed');
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, invoker));
    }),
  );
  return { ms: round.ms, sent: requests.take(), calls: counter.take() };
}
const firstRound = await checkRound();
const round = await checkRound();
const checksPerMinute = (site.apps.length / round.ms) * 60_000;
const requestsPerCheck = round.sent.length / site.apps.length;
const awsPerCheck = round.calls.length / site.apps.length;

// Inventories: how many objects one DynamoDB item holds, through the real store.
const dynamodb = new DynamoDBClient({});
const table_ = await createStateTable();
const store = new DynamoDbEnvironmentStore(table_);

/** DynamoDB's size of an item: attribute names and values (strings and binaries by their bytes). */
function itemBytes(item: Record<string, AttributeValue>): number {
  const size = (value: AttributeValue): number => {
    if (value.S !== undefined) return Buffer.byteLength(value.S);
    if (value.B !== undefined) return value.B.length;
    if (value.N !== undefined) return value.N.length;
    if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
    if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + size(v), 0);
    if (value.M !== undefined) return 3 + itemBytes(value.M);
    if (value.SS !== undefined) return value.SS.reduce((sum, v) => sum + Buffer.byteLength(v), 0);
    return 0;
  };
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + size(value), 0);
}

/** A deployment of `count` objects recorded through the store; resolves its items' sizes, or the refusal. */
async function recordOf(count: number) {
  const key = {
    app: `big-${count}-${randomBytes(3).toString('hex')}`,
    environment: 'production',
    part: 'app',
  } as const;
  const objects = appObjects(`service-${key.app}`, 'shop-production', 1, count).map((o) => ({
    ...o,
    metadata: { ...o.metadata, labels: ownerLabels(key) },
  }));
  // Hashes and resourceVersions as random as real ones, the same at each run.
  const inventory: InventoryEntry[] = objects.map((o, i) => ({
    ...refOf(o),
    hash: createHash('sha256').update(`${count}/${i}`).digest('hex').slice(0, 32),
    resourceVersion: String(10_000_000 + ((i * 7_919_317) % 90_000_000)),
  }));
  const id = randomBytes(8).toString('hex');
  const at = new Date().toISOString();
  const record: DeploymentRecord = {
    id,
    jobId: randomBytes(32).toString('hex'),
    key,
    commit: 'c'.repeat(40),
    ref: 'refs/heads/main',
    trigger: { kind: 'push', deliveryId: randomBytes(16).toString('hex'), provider: 'github' },
    startedAt: at,
    finishedAt: at,
    result: 'succeeded',
    message: `applied ${count} objects`,
    objects: objects.map((o) => ({ object: describeRef(refOf(o)), action: 'created' as const })),
  };
  await store.lock(key, id, 60);
  const recorded = await store
    .recordDeployment(record, {
      sync: { status: 'Synced', message: '', at },
      applied: {
        commit: { commit: record.commit, ref: record.ref, deploymentId: id, appliedAt: at },
        inventory,
        desired: objects,
      },
    })
    .then(
      () => undefined,
      (error: unknown) => String((error as Error).message).split('\n')[0],
    );
  const item = async (sk: string) => {
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: table_, Key: { pk: { S: `PART#${partId(key)}` }, sk: { S: sk } } }),
    );
    return Item === undefined ? undefined : itemBytes(Item);
  };
  const history = `DEPLOY#${record.startedAt}#${id}`;
  return {
    count,
    refused: recorded,
    inventory: await item('INVENTORY'),
    history: await item(history),
    desired: await item('DESIRED'),
  };
}

const at = await Promise.all([1000, 5000, MAX_REVISION_OBJECTS].map((n) => recordOf(n)));
// The largest inventory an item holds: a search over counts, each recorded through the store.
let [low, high] = [1000, 40_000];
while (high - low > 250) {
  const middle = Math.round((low + high) / 2);
  const probe = await recordOf(middle);
  // DynamoDB's rule, by the items' sizes: moto does not check an item's size inside a transaction.
  if ([probe.inventory, probe.history].every((b) => b !== undefined && b <= DYNAMODB_ITEM_BYTES))
    low = middle;
  else high = middle;
}
const largest = await recordOf(low);
const past = await recordOf(high);
await counter.stop();

console.log(
  `${parts} environment parts in one configuration (${DEPLOYED} of them deployed apps of 20 objects), one ` +
    `repository, one cluster; the configuration's JSON, defined into every bundle: ${kb(configBytes)}`,
);
table([
  ['fan-out', 'time', 'SQS requests', 'largest batch', 'largest request', 'limit'],
  [
    'scheduler tick, cold (configuration parsed)',
    ms(tickCold.ms),
    String(coldSends.length),
    `${Math.max(...coldSends.map((c) => c.messages))} messages`,
    kb(Math.max(...coldSends.map((c) => c.requestBytes))),
    'function timeout 60 s; SQS: 10 messages, 256 KiB a batch',
  ],
  [
    'scheduler tick, warm',
    ms(tickWarm.ms),
    String(warmSends.length),
    `${Math.max(...warmSends.map((c) => c.messages))} messages`,
    kb(Math.max(...warmSends.map((c) => c.requestBytes))),
    '',
  ],
  [
    `webhook: one push triggering ${fanOutJobs} parts, warm (cold: ${ms(fanOutCold.ms)})`,
    ms(fanOut.ms),
    String(fanOutSends.length),
    `${Math.max(0, ...fanOutSends.map((c) => c.messages))} messages`,
    kb(Math.max(0, ...fanOutSends.map((c) => c.requestBytes))),
    'Git hosts wait 10 s for the answer',
  ],
]);
console.log(
  `scheduler: ${tickWarm.value.checks} checks a tick in ${warmSends.length} batches sent ten at a time, ` +
    `${(tickWarm.ms / warmSends.length).toFixed(1)} ms a batch with SQS's answer at once: a tick takes a tenth of ` +
    "its batches times SQS's latency, so its 60 s hold 6,000,000 / L parts at L ms a SendMessageBatch (600,000 " +
    'at 10 ms, 60,000 at 100 ms)',
);
console.log(
  `webhook: the push's ${fanOutJobs} parts each get a pending commit status too (posted in parallel, settled ` +
    'within 3 s: the test bed refuses them at once, GitHub would take about a post a part)',
);
console.log(
  `deploy queue (FIFO): the push sent ${fanOutSends.reduce((sum, c) => sum + c.messages, 0)} jobs in ` +
    `${fanOutSends.length} batches one after another, in ${new Set(fanOutSends.flatMap((c) => c.groups)).size} ` +
    `message groups (one per part); the worker takes one job an invocation (${drained.invocations} for ${site.apps.length} deploys)`,
);

console.log(
  `\nreconciler: ${site.apps.length} checks a round, ${CONCURRENCY} invocations at a time of ${BATCH} checks (the stack's maxConcurrency and batch size), in this process`,
);
table([
  ['checks', 'round', 'checks per minute', 'API requests a check', 'peak API rate', 'AWS requests a check'],
  [
    'first round',
    ms(firstRound.ms),
    ((site.apps.length / firstRound.ms) * 60_000).toFixed(0),
    (firstRound.sent.length / site.apps.length).toFixed(1),
    `${peakRate(firstRound.sent).toFixed(0)}/s`,
    (firstRound.calls.length / site.apps.length).toFixed(1),
  ],
  [
    'next round',
    ms(round.ms),
    checksPerMinute.toFixed(0),
    requestsPerCheck.toFixed(1),
    `${peakRate(round.sent).toFixed(0)}/s`,
    awsPerCheck.toFixed(1),
  ],
]);
console.log(
  `  API requests of a round: ${describeRequests(round.sent)}; each process within 1,000/s (bursts of 2,000)`,
);
console.log(
  `  at this rate a tick of ${PARTS} parts takes ${((PARTS / checksPerMinute) * 60).toFixed(0)} s of checking, ` +
    `${(PARTS / checksPerMinute) * 60 <= 300 ? 'within' : 'longer than'} the 5-minute schedule; ` +
    `${(requestsPerCheck * (checksPerMinute / 60)).toFixed(0)} API requests/s on the cluster while it runs`,
);

console.log(
  `\nDynamoDB items of one part's deployment (gzipped lists), DynamoDB's limit ${kb(DYNAMODB_ITEM_BYTES)} an item`,
);
const size = (bytes: number | undefined) => (bytes === undefined ? 'not kept' : kb(bytes));
table([
  ['objects', 'recorded', 'INVENTORY', 'DEPLOY# (history)', 'DESIRED (kept up to 350 KB)'],
  ...[...at, largest, past].map((r) => [
    r.count.toLocaleString('en'),
    r.refused !== undefined
      ? `refused by moto: ${r.refused.slice(0, 60)}`
      : (r.inventory ?? 0) > DYNAMODB_ITEM_BYTES
        ? 'by moto; DynamoDB would refuse it (item over 400 KB)'
        : 'yes',
    size(r.inventory),
    size(r.history),
    size(r.desired),
  ]),
]);
console.log(
  `  the largest inventory recorded: about ${low.toLocaleString('en')} objects (the cap is ${MAX_REVISION_OBJECTS.toLocaleString('en')}); ` +
    'without DESIRED, each check fetches and renders the last applied commit again',
);
quickNote();
