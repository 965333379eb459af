// The webhook Lambda's costs, each beside its floor or goal:
// - CPU per delivery of a ~25 KB GitHub push through the handler (API Gateway event in, answer out), against the
//   floor of HMAC-SHA256 plus JSON.parse of the same bytes. The ports are in-process (a queue that keeps jobs in
//   an array, a delivery log backed by a Set, a constant secret), so the figure is the handler's own work.
// (Its bundle and cold start are measured with the other functions' in cold-start.bench.ts.)
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { type ConfigInput, parseConfig } from '../functions/core/config.ts';
import { createIntake } from '../functions/core/intake/intake.ts';
import { handleEvent } from '../functions/webhook/handler.ts';
import {
  apiEvent,
  githubDelivery,
  githubPushExamples,
  MapSecretSource,
  MemoryDeliveryLog,
  MemoryJobQueue,
  type Payload,
} from '../test/support/webhooks.ts';
import { kb, median, table, verdict } from './support.ts';

const TARGET_BYTES = 25 * 1024;
const WARM_UP = 1_000;
const ITERATIONS = 5_000;
const ROUNDS = 5;
const GOALS = { cpuRatio: 2 };

const SECRET = 'bench-webhook-secret';
const config = parseConfig({
  repositories: [
    {
      name: 'hello',
      url: 'https://github.com/Codertocat/Hello-World.git',
      provider: 'github',
      webhookSecret: 'hello-webhook',
    },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: [
    {
      name: 'hello',
      repository: 'hello',
      path: 'deploy/base',
      environments: [
        { name: 'staging', cluster: 'main', namespace: 'hello', trigger: { branches: ['main'] } },
        {
          name: 'qa',
          cluster: 'main',
          namespace: 'hello-qa',
          trigger: { branches: ['main', 'release/*'], paths: ['deploy/**'] },
        },
        { name: 'production', cluster: 'main', namespace: 'hello', trigger: { tags: ['v*'] } },
      ],
    },
  ],
} satisfies ConfigInput);

/** A push to main of about 25 KB: GitHub's own example, grown with commits until it is that large. */
function pushPayload(): Payload {
  const example = githubPushExamples().find(
    (e) => e.name.startsWith('api.github.com') && e.payload.ref === 'refs/heads/master',
  )?.payload;
  if (example === undefined) throw new Error('no branch push among the examples');
  const template = (example.commits as Payload[])[0] as Payload;
  const commits: Payload[] = [];
  const payload: Payload = {
    ...example,
    ref: 'refs/heads/main',
    before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    created: false,
    commits,
  };
  for (let i = 0; JSON.stringify(payload).length < TARGET_BYTES; i++) {
    const id = createHmac('sha1', 'commit').update(String(i)).digest('hex');
    commits.push({
      ...template,
      id,
      tree_id: createHmac('sha1', 'tree').update(String(i)).digest('hex'),
      message: `Change ${i} of the deployment manifests`,
      url: `https://github.com/Codertocat/Hello-World/commit/${id}`,
      added: i % 5 === 0 ? [`deploy/overlays/env-${i}/kustomization.yaml`] : [],
      modified: ['deploy/base/deployment.yaml', `docs/change-${i}.md`],
      removed: [],
    });
  }
  const last = commits[commits.length - 1] as Payload;
  payload.after = last.id;
  payload.head_commit = last;
  return payload;
}

interface CpuResult {
  bodyBytes: number;
  handlerMicros: number;
  floorMicros: number;
  jobsPerDelivery: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Runs in a child process whose stdout is discarded: the handler logs one line per delivery, as in Lambda. */
async function measureCpu(): Promise<CpuResult> {
  const payload = pushPayload();
  const queue = new MemoryJobQueue();
  const intake = createIntake({
    config,
    queue,
    deliveries: new MemoryDeliveryLog(),
    secrets: new MapSecretSource({ 'hello-webhook': SECRET }),
    logger: new Logger({ serviceName: 'ferry-webhook' }),
  });
  const template = apiEvent(githubDelivery(payload, { secret: SECRET }));
  const body = template.body ?? '';
  const bytes = Buffer.from(body);
  // Each delivery has its own id, so none is taken for a redelivery.
  const events = Array.from({ length: WARM_UP + ITERATIONS }, () => ({
    ...template,
    headers: { ...template.headers, 'x-github-delivery': randomUUID() },
  }));

  const check = await handleEvent(intake, events[0] ?? template);
  if (check.statusCode !== 202) throw new Error(`the handler answered ${check.statusCode}: ${check.body}`);
  const jobsPerDelivery = queue.jobs.length;

  let next = 1;
  const handlerRun = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await handleEvent(intake, events[next++] ?? template);
    }
    queue.jobs.length = 0;
  };
  let sink = 0;
  const floorRun = (n: number) => {
    for (let i = 0; i < n; i++) {
      const signature = createHmac('sha256', SECRET).update(bytes).digest('hex');
      const parsed = JSON.parse(body) as { commits: unknown[] };
      sink += signature.length + parsed.commits.length;
    }
  };
  /** CPU microseconds per operation of `count` operations. */
  const cpuMicros = async (count: number, run: (n: number) => unknown) => {
    gc();
    const start = process.cpuUsage();
    await run(count);
    const used = process.cpuUsage(start);
    return (used.user + used.system) / count;
  };

  floorRun(WARM_UP);
  await handlerRun(WARM_UP - 1);
  const handlerTimes: number[] = [];
  const floorTimes: number[] = [];
  const perRound = Math.floor(ITERATIONS / ROUNDS);
  next = WARM_UP;
  for (let round = 0; round < ROUNDS; round++) {
    // Each round takes its own share of the prepared deliveries, so no delivery id repeats.
    floorTimes.push(await cpuMicros(perRound, floorRun));
    handlerTimes.push(await cpuMicros(perRound, handlerRun));
  }
  if (sink === 0) throw new Error('unreachable');
  return {
    bodyBytes: bytes.length,
    handlerMicros: median(handlerTimes),
    floorMicros: median(floorTimes),
    jobsPerDelivery,
  };
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });
}

async function cpuInChildProcess(logs: boolean): Promise<CpuResult> {
  const child = spawn(process.execPath, ['--expose-gc', import.meta.filename, '--cpu'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: logs ? 'INFO' : 'SILENT' },
  });
  let result: CpuResult | undefined;
  child.on('message', (message) => {
    result = message as CpuResult;
  });
  const code = await exited(child);
  if (code !== 0 || result === undefined) throw new Error(`the CPU measurement failed (exit ${code})`);
  return result;
}

if (process.argv.includes('--cpu')) {
  const result = await measureCpu();
  process.send?.(result);
} else {
  const cpu = await cpuInChildProcess(true);
  const silent = await cpuInChildProcess(false);
  const ratio = cpu.handlerMicros / cpu.floorMicros;

  const rows: string[][] = [
    ['', 'measured', 'floor / goal', 'ratio', 'goal'],
    [
      'CPU per delivery',
      `${cpu.handlerMicros.toFixed(1)} µs`,
      `${cpu.floorMicros.toFixed(1)} µs (HMAC-SHA256 + JSON.parse)`,
      `${ratio.toFixed(2)}x`,
      `within ${GOALS.cpuRatio}x of the floor: ${verdict(ratio <= GOALS.cpuRatio)}`,
    ],
    [
      '  without its log line',
      `${silent.handlerMicros.toFixed(1)} µs`,
      `${silent.floorMicros.toFixed(1)} µs`,
      `${(silent.handlerMicros / silent.floorMicros).toFixed(2)}x`,
      'for reference: writing the log line is a system call',
    ],
  ];
  console.log(
    `webhook handler: a ${kb(cpu.bodyBytes)} GitHub push to main (${cpu.jobsPerDelivery} jobs each), ` +
      `${ITERATIONS} deliveries after ${WARM_UP} to warm up, median of ${ROUNDS} rounds of process.cpuUsage.`,
  );
  console.log(
    'In-process ports (jobs kept in an array, deliveries in a Set, a constant secret), so the figure is the ' +
      'handler’s own work: the API Gateway event through handleEvent and the intake, as `handler` runs them once ' +
      'warm, its log line per delivery (Powertools Logger) written to /dev/null.',
  );
  table(rows);
}
