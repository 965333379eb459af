// Cost from measured figures. The functions' real handlers run in this process over moto (every AWS request
// counted at a proxy in front of it) and the test bed, and the bench measures, for one no-drift check (in a
// batch of the stack's batch size, as its event source hands them over) and for one deploy of a 20-object app
// (the webhook's delivery and the worker's job): the function time and CPU time, billed at the stack's memory
// sizes (GB-s) with the CPU time stretched by Lambda's CPU share at that size, the SQS, DynamoDB and Secrets
// Manager requests, the log bytes written and the metric series published (from the embedded metric format);
// and the reconciler's peak resident memory running a batch in a fresh process, from its bundle. It prints the
// monthly cost for 50 and for 1,000 environments with a check every 5 minutes and 2,000 deploys a month at
// published on-demand prices (us-east-1), beside the managed EKS Capability for Argo CD.

import { SqsJobQueue } from '../functions/adapters/aws/sqs-job-queue.ts';
import { createJob } from '../functions/core/model/job.ts';
import { RECONCILER_BATCH_SIZE, RECONCILER_MEMORY_MB } from '../lib/schedule.ts';
import { deleteMessage, drainWithWorker, workerContext } from '../test/support/sqs-worker.ts';
import { uniqueName } from '../test/support/testbed.ts';
import { lambdaContext } from '../test/support/webhooks.ts';
import { createSite, invokeBundle, tickEvent } from './site.ts';
import {
  type AwsCall,
  bundleFunction,
  captureOutput,
  countCalls,
  FUNCTION_ENTRIES,
  mb,
  ms,
  pick,
  quickNote,
  startAwsCounter,
  table,
  timed,
} from './support.ts';

/** Published on-demand prices, us-east-1. */
const PRICE = {
  lambdaRequest: 0.2 / 1e6,
  gbSecond: { x86: 0.0000166667, arm64: 0.0000133334 },
  sqsFifoRequest: 0.5 / 1e6,
  sqsStandardRequest: 0.4 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  logsGb: 0.5,
  httpApiRequest: 1 / 1e6,
  secretsManagerCall: 0.05 / 10_000,
  secretMonth: 0.4,
  metricMonth: 0.3,
  argoHour: 0.02771,
  argoApplicationHour: 0.00136,
} as const;
/** The stack's functions: memory and architecture (lib/intake.ts, deploy-pipeline.ts, schedule.ts). */
const FUNCTIONS = {
  webhook: { gb: 0.5, arch: 'arm64' },
  worker: { gb: 2, arch: 'x86' },
  scheduler: { gb: 0.25, arch: 'arm64' },
  reconciler: { gb: RECONCILER_MEMORY_MB / 1024, arch: 'x86' },
} as const;
/** Lambda gives a function CPU in proportion to its memory: one whole vCPU at 1,769 MB. */
const FULL_CPU_GB = 1769 / 1024;
const HOURS = 730;
const TICKS = (60 / 5) * HOURS;
const DEPLOYS = 2000;
const BATCH = RECONCILER_BATCH_SIZE;
const ROUNDS = pick(5, 2);
const GOALS = { 50: 10, 1000: 150 } as const;

const counter = await startAwsCounter();
process.env.AWS_ENDPOINT_URL = counter.endpoint;
const site = await createSite({ apps: BATCH, ownPaths: true, reconcileJitterSeconds: 0 });
const first = await site.push(1);
Object.assign(process.env, site.env, { POWERTOOLS_LOG_LEVEL: 'INFO' });
const [{ handler: webhook }, { handler: worker }, { handler: reconciler }, { handler: scheduler }] =
  await Promise.all([
    import('../functions/webhook/handler.ts'),
    import('../functions/worker/handler.ts'),
    import('../functions/reconciler/handler.ts'),
    import('../functions/scheduler/handler.ts'),
  ]);

/** What one measured invocation cost: its time, the AWS requests it made, the log bytes and metric series it wrote. */
interface Measured {
  readonly ms: number;
  /** CPU time of this process meanwhile: the handler's, and the bench's proxy in front of moto (an upper bound). */
  readonly cpuMs: number;
  readonly calls: readonly AwsCall[];
  readonly logBytes: number;
  /** Metric series published (name and dimension values), those by app environment apart. */
  readonly series: { readonly fixed: ReadonlySet<string>; readonly byApp: ReadonlySet<string> };
}

/** The metric series in embedded-metric-format lines: each metric name with its dimension values. */
function seriesOf(lines: readonly string[]): Measured['series'] {
  const fixed = new Set<string>();
  const byApp = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith('{') || !line.includes('"_aws"')) continue;
    const emf = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    for (const directive of emf._aws.CloudWatchMetrics) {
      const dimensions = directive.Dimensions[0] ?? [];
      const values = dimensions.map((d) => `${d}=${String(emf[d])}`).join(',');
      for (const { Name } of directive.Metrics)
        (dimensions.includes('app') ? byApp : fixed).add(`${Name}{${values}}`);
    }
  }
  return { fixed, byApp };
}

/**
 * Runs an invocation with its output captured. Lines about commit statuses the test bed's Git server refuses
 * (it is no GitHub) are left out of the bytes: a real host accepts the posts, and nothing is logged.
 */
async function measure<T>(work: () => Promise<T>): Promise<Measured & { value: T }> {
  counter.take();
  const output = captureOutput();
  try {
    const cpu = process.cpuUsage();
    const run = await timed(work);
    const used = process.cpuUsage(cpu);
    const logged = output
      .text()
      .split('\n')
      .filter((line) => line !== '' && !/commit status not posted|StatusPostsFailed/.test(line));
    return {
      ms: run.ms,
      cpuMs: Math.min(run.ms, (used.user + used.system) / 1000),
      value: run.value,
      calls: counter.take(),
      logBytes: logged.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
      series: seriesOf(logged),
    };
  } finally {
    output.restore();
  }
}

/** Billed milliseconds at the function's memory size: the waits as measured, the CPU time at Lambda's share. */
function lambdaMs(measured: Pick<Measured, 'ms' | 'cpuMs'>, fn: keyof typeof FUNCTIONS): number {
  const stretch = Math.max(1, FULL_CPU_GB / FUNCTIONS[fn].gb);
  return measured.ms - measured.cpuMs + measured.cpuMs * stretch;
}

// The apps' first deploys, through the real path; afterwards every function has read its configuration.
await new SqsJobQueue(site.deployQueueUrl).enqueue(
  site.apps.map((app) =>
    createJob(
      { app, environment: 'staging', part: 'app' },
      { ref: 'refs/heads/main', commit: first },
      { kind: 'push', deliveryId: uniqueName('delivery'), provider: 'github' },
    ),
  ),
);
// The test bed's roll-outs run in this process: only while deploys wait for them, off the checks' CPU time.
let rollouts = site.rollouts();
await measure(() =>
  drainWithWorker(site.deployQueueUrl, { config: site.config, table: site.table }, { concurrency: 5 }),
);
await rollouts.stop();
const tick = await measure(() => scheduler(tickEvent(), lambdaContext()));
await measure(() => reconciler(site.checkEvent(site.apps), lambdaContext()));

// Checks: batches of no-drift checks, warm, as the event source hands them to the reconciler.
const checks: Measured[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const checked = await measure(() => reconciler(site.checkEvent(site.apps), lambdaContext()));
  if (checked.value.batchItemFailures.length > 0) throw new Error('a check failed');
  checks.push(checked);
}
const check = checks.sort((a, b) => a.ms - b.ms)[Math.floor(checks.length / 2)] as Measured;

// The reconciler's bundle, as the stack builds it, running one batch in a fresh process: its peak memory.
const bundle = await bundleFunction(FUNCTION_ENTRIES.reconciler, 'reconciler', site.env.FERRY_CONFIG_JSON);
const fresh = await invokeBundle(bundle.file, 'reconciler', site.checkEvent(site.apps), site.env);
if (((fresh.result as { batchItemFailures?: unknown[] }).batchItemFailures ?? []).length > 0)
  throw new Error('a check in the fresh process failed');

// One deploy: a push changing one app, its delivery through the webhook, its job through the worker.
const app = site.apps[0] ?? '';
const commit = await site.commit(2, [app]);
await site.publish();
rollouts = site.rollouts();
const delivery = await measure(() => webhook(site.delivery(commit, first), lambdaContext()));
if (delivery.value.statusCode !== 202) throw new Error(`the webhook answered ${delivery.value.statusCode}`);
const job = await site.receiveJobs();
const deploy = await measure(() => worker(job, workerContext(900_000)));
for (const record of job.Records) await deleteMessage(site.deployQueueUrl, record.receiptHandle);
await rollouts.stop();
await counter.stop();
if (deploy.value.batchItemFailures.length > 0) throw new Error('the deploy failed');

/** Request units and counts of a measured invocation, by what they are billed as. */
function bill(measured: Measured) {
  const calls = measured.calls;
  const sqs = calls.filter((c) => c.service === 'sqs');
  const isRead = (c: AwsCall) => ['GetItem', 'Query', 'BatchGetItem'].includes(c.action);
  const dynamodb = calls.filter((c) => c.service === 'dynamodb');
  return {
    sqs: sqs.length,
    dynamoReads: dynamodb.filter(isRead).reduce((sum, c) => sum + c.units, 0),
    dynamoWrites: dynamodb.filter((c) => !isRead(c)).reduce((sum, c) => sum + c.units, 0),
    secrets: calls.filter((c) => c.service === 'secretsmanager').length,
  };
}
const batchBill = bill(check);
const perCheck = {
  sqs: batchBill.sqs / BATCH,
  dynamoReads: batchBill.dynamoReads / BATCH,
  dynamoWrites: batchBill.dynamoWrites / BATCH,
  secrets: batchBill.secrets / BATCH,
  ms: lambdaMs(check, 'reconciler') / BATCH,
  logBytes: check.logBytes / BATCH,
};
const perDelivery = { ...bill(delivery), ms: lambdaMs(delivery, 'webhook'), logBytes: delivery.logBytes };
const perDeploy = { ...bill(deploy), ms: lambdaMs(deploy, 'worker'), logBytes: deploy.logBytes };
const perTick = { ...bill(tick), ms: lambdaMs(tick, 'scheduler'), logBytes: tick.logBytes };
/** Series by app environment that a deploy publishes; those of no app that the checks keep publishing. */
const deploySeries = new Set([...delivery.series.byApp, ...deploy.series.byApp]).size;
const checkSeries = check.series;

const describe = (measured: Measured) =>
  [...countCalls(measured.calls)]
    .map(([call, { calls, units }]) => `${calls} ${call}${units > 0 ? ` (${units.toFixed(1)} units)` : ''}`)
    .join(', ');
const gbSeconds = (msEach: number, fn: keyof typeof FUNCTIONS) =>
  ((msEach / 1000) * FUNCTIONS[fn].gb).toFixed(3);
console.log(
  `measured on the test bed (${site.apps.length} deployed apps of 20 objects; the handlers warm, in this process): ` +
    'function time (CPU time in brackets) billed at the stack memory sizes with the CPU time stretched by ' +
    "Lambda's CPU share there, AWS requests counted at moto, log bytes as written",
);
table([
  ['', 'function time', 'billed', 'GB-s', 'AWS requests', 'log bytes'],
  [
    `one no-drift check (reconciler, a batch of ${BATCH})`,
    `${ms(check.ms / BATCH)} (${ms(check.cpuMs / BATCH)})`,
    ms(perCheck.ms),
    gbSeconds(perCheck.ms, 'reconciler'),
    `${(check.calls.length / BATCH).toFixed(1)} (${perCheck.dynamoReads.toFixed(1)} read, ${perCheck.dynamoWrites.toFixed(1)} write units)`,
    perCheck.logBytes.toFixed(0),
  ],
  [
    `one tick of the scheduler (${site.apps.length} parts)`,
    `${ms(tick.ms)} (${ms(tick.cpuMs)})`,
    ms(perTick.ms),
    gbSeconds(perTick.ms, 'scheduler'),
    String(tick.calls.length),
    perTick.logBytes.toFixed(0),
  ],
  [
    'one deploy: the webhook',
    `${ms(delivery.ms)} (${ms(delivery.cpuMs)})`,
    ms(perDelivery.ms),
    gbSeconds(perDelivery.ms, 'webhook'),
    String(delivery.calls.length),
    perDelivery.logBytes.toFixed(0),
  ],
  [
    'one deploy: the worker (health wait included)',
    `${ms(deploy.ms)} (${ms(deploy.cpuMs)})`,
    ms(perDeploy.ms),
    gbSeconds(perDeploy.ms, 'worker'),
    String(deploy.calls.length),
    perDeploy.logBytes.toFixed(0),
  ],
]);
console.log(`  a batch of ${BATCH} checks: ${describe(check)}`);
console.log(`  the webhook: ${describe(delivery)}`);
console.log(`  the worker: ${describe(deploy)}`);
console.log(
  `  metric series: the checks ${checkSeries.fixed.size} of no part (${[...checkSeries.fixed].join(', ')}) and ` +
    `${checkSeries.byApp.size} by app environment; a deploy ${deploySeries} by app environment`,
);
console.log(
  `  the reconciler's bundle in a fresh process, one batch of ${BATCH} checks: peak resident memory ` +
    `${mb(fresh.maxRssKb * 1024)} (memory size ${RECONCILER_MEMORY_MB} MB), import ${ms(fresh.importMs)}, ` +
    `batch ${ms(fresh.invokeMs)}`,
);

/** The monthly bill for `environments` parts, line by line. */
function monthly(environments: number) {
  const checksPerMonth = environments * TICKS;
  const invocations = checksPerMonth / BATCH;
  const lambda = (fn: keyof typeof FUNCTIONS, count: number, msEach: number) =>
    count * PRICE.lambdaRequest +
    count * (msEach / 1000) * FUNCTIONS[fn].gb * PRICE.gbSecond[FUNCTIONS[fn].arch];
  // The scheduler's time grows with the parts: scaled from the measured (an upper bound; see scale.bench.ts).
  const tickMs = perTick.ms * Math.max(1, environments / site.apps.length);
  // A series is billed by the hour it is published in: the checks' all month; a deploy's in its hour (an upper
  // bound: no two deploys of an app environment share an hour), at most all month for each app environment.
  const metricHour = PRICE.metricMonth / HOURS;
  const checkMetrics =
    (checkSeries.fixed.size + (checkSeries.byApp.size / BATCH) * environments) * PRICE.metricMonth;
  const deployMetrics = Math.min(DEPLOYS, environments * HOURS) * deploySeries * metricHour;
  const lines: [string, number][] = [
    ['Lambda: reconciler checks', lambda('reconciler', invocations, perCheck.ms * BATCH)],
    ['Lambda: scheduler ticks', lambda('scheduler', TICKS, tickMs)],
    [
      'Lambda: webhook and worker deploys',
      lambda('webhook', DEPLOYS, perDelivery.ms) + lambda('worker', DEPLOYS, perDeploy.ms),
    ],
    ['HTTP API: deliveries', DEPLOYS * PRICE.httpApiRequest],
    [
      'SQS: check queue (standard): sends, receives, deletes',
      (TICKS * Math.ceil(environments / 10) + invocations * 2) * PRICE.sqsStandardRequest,
    ],
    [
      'SQS: deploy queue (FIFO): sends, receives, deletes',
      DEPLOYS * (perDelivery.sqs + perDeploy.sqs + 2) * PRICE.sqsFifoRequest,
    ],
    [
      'DynamoDB: checks',
      checksPerMonth *
        (perCheck.dynamoReads * PRICE.dynamoReadUnit + perCheck.dynamoWrites * PRICE.dynamoWriteUnit),
    ],
    [
      'DynamoDB: deploys',
      DEPLOYS *
        ((perDelivery.dynamoReads + perDeploy.dynamoReads) * PRICE.dynamoReadUnit +
          (perDelivery.dynamoWrites + perDeploy.dynamoWrites) * PRICE.dynamoWriteUnit),
    ],
    [
      'CloudWatch Logs: ingested',
      ((checksPerMonth * perCheck.logBytes +
        TICKS * perTick.logBytes +
        DEPLOYS * (perDelivery.logBytes + perDeploy.logBytes)) /
        1e9) *
        PRICE.logsGb,
    ],
    [
      'Secrets Manager: API calls (warm containers keep what they read)',
      (checksPerMonth * perCheck.secrets + DEPLOYS * (perDelivery.secrets + perDeploy.secrets)) *
        PRICE.secretsManagerCall,
    ],
    ["CloudWatch: custom metrics, the checks' series", checkMetrics],
    ["CloudWatch: custom metrics, the deploys' series (by the hour)", deployMetrics],
  ];
  return { lines, total: lines.reduce((sum, [, cost]) => sum + cost, 0) };
}

const argo = (applications: number) => HOURS * (PRICE.argoHour + applications * PRICE.argoApplicationHour);
const at50 = monthly(50);
const at1000 = monthly(1000);
const usd = (value: number) => `$${value < 10 ? value.toFixed(2) : value.toFixed(0)}`;
console.log(
  `\nmonthly cost: a check of every environment every 5 minutes (${TICKS.toLocaleString('en')} ticks), ` +
    `${DEPLOYS.toLocaleString('en')} deploys a month, ${HOURS} hours, on-demand prices (us-east-1), free tiers left out`,
);
table([
  ['', '50 environments', '1,000 environments'],
  ...at50.lines.map(([name, cost], i) => [name, usd(cost), usd(at1000.lines[i]?.[1] ?? 0)]),
  ['Ferry, in all', usd(at50.total), usd(at1000.total)],
  [
    'goal',
    `< $${GOALS[50]}: ${at50.total < GOALS[50] ? 'met' : 'NOT MET'}`,
    `< $${GOALS[1000]}: ${at1000.total < GOALS[1000] ? 'met' : 'NOT MET'}`,
  ],
  ['managed EKS Capability for Argo CD (an application each)', usd(argo(50)), usd(argo(1000))],
]);
console.log(
  `Not in the sums: Secrets Manager's $${PRICE.secretMonth.toFixed(2)} a secret a month (a webhook secret and a token ` +
    "per repository), the event source mappings' empty long polls of both queues (a few hundred thousand requests " +
    'a month whatever the load), DynamoDB storage and backups, alarms, and cold starts (INIT is billed too: see ' +
    'cold-start.bench.ts). Function time was measured on this machine, not in Lambda: the CPU time is stretched ' +
    "by Lambda's CPU share at each memory size (1,769 MB a vCPU), the waits are not.",
);
quickNote();
