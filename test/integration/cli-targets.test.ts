// The operating commands on both targets at once: a local state directory and an AWS stack on moto (its table
// and queues created by a CloudFormation stack whose outputs name them, its configuration in the template), the
// same records written into each through the store's ports. `status`, `history`, `suspend`, `redrive` and
// `wait` must print the same for both, every message whole.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDbEnvironmentStore } from '../../functions/adapters/aws/dynamodb-environment-store.ts';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { SqliteJobQueue } from '../../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { type Config, parseConfig } from '../../functions/core/config.ts';
import { createJob, type DeployJob } from '../../functions/core/model/job.ts';
import { type PartKey, partId } from '../../functions/core/model/part.ts';
import type { DeploymentRecord, StateChange } from '../../functions/core/model/records.ts';
import type { StatusReport } from '../../functions/core/model/status.ts';
import type { CheckStore, EnvironmentStore } from '../../functions/core/ports.ts';
import {
  type CliResult,
  createMotoStack,
  FERRY,
  ferry,
  freshDirectory,
  type MotoStack,
  userEnvironment,
} from '../support/cli.ts';
import { yaml } from '../support/manifests.ts';

const A = 'a1'.repeat(20);
const B = 'b2'.repeat(20);
const staging: PartKey = { app: 'shop', environment: 'staging', part: 'app' };
const production: PartKey = { app: 'shop', environment: 'production', part: 'app' };
const FAILED_AT = '2026-12-01T12:00:00.000Z';
const REJECTION =
  '1 object(s) rejected, nothing applied:\nDeployment shop/web: spec.replicas: expected integer';
const UNREACHABLE = 'cluster testbed is unreachable: connect ECONNREFUSED 127.0.0.1:1';

const config: Config = parseConfig({
  repositories: [
    { name: 'shop', url: 'https://git.example.com/shop.git', provider: 'github', webhookSecret: 'shop/hook' },
  ],
  clusters: [{ name: 'testbed', type: 'eks', clusterName: 'testbed', region: 'us-east-1' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'testbed', namespace: 'shop', trigger: { branches: ['main'] } },
        { name: 'production', cluster: 'testbed', namespace: 'shop', trigger: { tags: ['v*'] } },
      ],
    },
  ],
});

function record(key: PartKey, id: string, overrides: Partial<DeploymentRecord>): DeploymentRecord {
  return {
    id,
    jobId: `job-${id}`,
    key,
    commit: A,
    ref: 'refs/heads/main',
    trigger: { kind: 'push', deliveryId: 'd1', provider: 'github' },
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:00:04.200Z',
    result: 'succeeded',
    message: 'applied 1, 1 unchanged',
    objects: [
      { object: 'ConfigMap shop/settings', action: 'created' },
      { object: 'Service shop/web', action: 'unchanged' },
    ],
    ...overrides,
  };
}

const applied = (r: DeploymentRecord, pin?: StateChange['pin']): StateChange => ({
  sync: { status: 'Synced', message: r.message, at: r.finishedAt, commit: r.commit },
  applied: {
    commit: { commit: r.commit, ref: r.ref, deploymentId: r.id, appliedAt: r.finishedAt },
    inventory: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'settings', hash: 'h' }],
    desired: [],
  },
  ...(pin === undefined ? {} : { pin }),
});

async function recorded(store: EnvironmentStore, r: DeploymentRecord, change: StateChange): Promise<void> {
  assert.ok(await store.lock(r.key, r.id, 60));
  await store.recordDeployment(r, change);
  await store.unlock(r.key, r.id);
}

/** The job that failed every attempt, and its last attempt as the worker records it. */
const deadJob: DeployJob = createJob(
  staging,
  { ref: 'refs/heads/main', commit: B },
  { kind: 'push', deliveryId: 'd9', provider: 'github' },
);

/** The same history in either store: staging succeeded at A then failed at B; production pinned at A. */
async function seed(store: EnvironmentStore & CheckStore): Promise<void> {
  const first = record(staging, 'mj0aaaaa-1111aaaa22', {});
  await recorded(store, first, applied(first));
  const failed = record(staging, 'mj0bbbbb-3333bbbb44', {
    commit: B,
    startedAt: '2026-12-01T11:00:00.000Z',
    finishedAt: '2026-12-01T11:00:01.000Z',
    result: 'failed',
    failure: 'rejected',
    message: REJECTION,
    objects: [
      { object: 'Deployment shop/web', action: 'failed', message: 'spec.replicas: expected integer' },
    ],
  });
  await recorded(store, failed, {
    sync: { status: 'Failed', message: REJECTION, at: failed.finishedAt, commit: B, failure: 'rejected' },
  });
  await store.recordCheck(
    staging,
    {
      id: 'tick1.shop.staging.app',
      at: '2026-12-01T11:05:00.000Z',
      headCommit: B,
      headRef: 'refs/heads/main',
      drifted: [],
      action: 'none',
      message: `refs/heads/main is at ${B.slice(0, 12)}, last applied ${A.slice(0, 12)}; that commit was rejected, waiting for a new one`,
    },
    {},
  );
  // The dead-lettered job's last attempt, recorded as the worker records a transient failure.
  await store.appendHistory(
    record(staging, 'mj0ddddd-7777dddd88', {
      jobId: deadJob.id,
      commit: B,
      startedAt: '2026-12-01T11:59:59.000Z',
      finishedAt: FAILED_AT,
      result: 'failed',
      failure: 'transient',
      message: UNREACHABLE,
      objects: [],
    }),
  );
  const pinned = record(production, 'mj0ccccc-5555cccc66', {
    ref: 'refs/tags/v1.0.0',
    trigger: { kind: 'manual', requestedBy: 'ann', pin: true, overrideDeletionBudget: false },
  });
  await recorded(
    store,
    pinned,
    applied(pinned, { commit: A, ref: 'refs/tags/v1.0.0', by: 'ann', at: pinned.startedAt }),
  );
}

interface Installs {
  readonly stateDir: string;
  readonly local: readonly string[];
  readonly stack: MotoStack;
  readonly aws: readonly string[];
}

let installs: Installs;
/** The stack's queue URLs are as AWS writes them: requests go to the endpoint, not to the URL's host. */
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

async function receiveAll(queueUrl: string): Promise<{ groupId: string; body: DeployJob }[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['MessageGroupId'],
    }),
  );
  for (const m of Messages)
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  return Messages.map((m) => ({
    groupId: m.Attributes?.MessageGroupId ?? '',
    body: JSON.parse(m.Body ?? '{}'),
  }));
}
const cleanup: string[] = [];
after(() => Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true }))));

before(async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ferry-cli-state-'));
  cleanup.push(stateDir);
  const db = openDatabase(stateDir);
  await seed(new SqliteStore(db));
  const queue = new SqliteJobQueue(db, { clock: () => Date.parse(FAILED_AT) });
  const [id] = queue.add([deadJob]);
  queue.claim();
  queue.deadLetter(id ?? 0, UNREACHABLE);
  db.close();

  const stack = await createMotoStack(config);
  const store = new DynamoDbEnvironmentStore(stack.tableName);
  await seed(store);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.deadLetterQueueUrl,
      MessageBody: JSON.stringify(deadJob),
      MessageGroupId: partId(deadJob),
      MessageDeduplicationId: deadJob.id,
    }),
  );
  const configFile = join(stateDir, 'ferry.config.yaml');
  await writeFile(configFile, yaml(config));
  installs = {
    stateDir,
    local: ['--state-dir', stateDir, '--config', configFile],
    stack,
    aws: stack.options,
  };
});

/** The output without its first line (which names the install) and with dead-letter ids made alike. */
const comparable = (result: CliResult) =>
  result.stdout
    .split('\n')
    .slice(1)
    .join('\n')
    .replace(/dead letter \S+:/g, 'dead letter <id>:');

describe('ferry status', () => {
  test('a table of every part, each last result, check and pin whole, the same for both installs', async () => {
    const local = await ferry(['status', ...installs.local]);
    const aws = await ferry(['status', ...installs.aws]);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(aws.code, 0, aws.stderr);
    assert.match(local.stdout, new RegExp(`^State: ${installs.stateDir} \\(no server running\\)\n`));
    assert.match(aws.stdout, new RegExp(`^Stack: ${installs.stack.stackName} in ${installs.stack.region}\n`));
    assert.equal(comparable(local), comparable(aws));
    const expected = [
      '',
      'PART                 SYNC    APPLIED       HEAD          PINNED               LAST CHECK',
      `shop/production/app  Synced  ${A.slice(0, 12)}  -             ${A.slice(0, 12)} by ann  -`,
      `  pinned at ${A.slice(0, 12)} (refs/tags/v1.0.0) by ann since 2026-12-01T10:00:00Z; head not checked yet`,
      `  last result: succeeded ${A.slice(0, 12)} manual (ann, pin) at 2026-12-01T10:00:00Z, 4.2 s (5555cccc)`,
      '    applied 1, 1 unchanged',
      `shop/staging/app     Failed  ${A.slice(0, 12)}  ${B.slice(0, 12)}  -                    2026-12-01T11:05:00Z none`,
      `  last result: failed ${B.slice(0, 12)} push (github) at 2026-12-01T11:59:59Z, 1.0 s (7777dddd)`,
      `    ${UNREACHABLE}`,
      '  Failed since 2026-12-01T11:00:01Z:',
      '    1 object(s) rejected, nothing applied:',
      '    Deployment shop/web: spec.replicas: expected integer',
      '  last check: none',
      `    refs/heads/main is at ${B.slice(0, 12)}, last applied ${A.slice(0, 12)}; that commit was rejected, waiting for a new one`,
      '',
      'Queue: 0 queued, 0 running, 1 dead letters',
      `  dead letter <id>: shop/staging/app ${B.slice(0, 12)} (refs/heads/main) push, 1 attempt(s), failed at 2026-12-01T12:00:00Z`,
      `    ${UNREACHABLE}`,
      '',
    ].join('\n');
    assert.equal(comparable(aws), expected);
  });

  test('one app or one environment; --json is the read model, alike for both', async () => {
    const one = await ferry(['status', 'shop/staging', ...installs.aws]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /shop\/staging\/app/);
    assert.doesNotMatch(one.stdout, /shop\/production/);
    const [local, aws] = await Promise.all([
      ferry(['status', '--json', ...installs.local]),
      ferry(['status', '--json', ...installs.aws]),
    ]);
    const strip = (result: CliResult) => {
      const report = JSON.parse(result.stdout) as StatusReport;
      return {
        ...report,
        generatedAt: '',
        queue: {
          ...report.queue,
          listsJobs: true,
          deadLetters: report.queue.deadLetters.map((d) => ({ ...d, id: '' })),
        },
      };
    };
    assert.deepEqual(strip(local), strip(aws));
    const report = JSON.parse(aws.stdout) as StatusReport;
    assert.deepEqual(
      report.environments.map((p) => [p.id, p.sync.status, p.configured, p.head?.commit ?? null]),
      [
        ['shop/production/app', 'Synced', true, null],
        ['shop/staging/app', 'Failed', true, B],
      ],
    );
    assert.equal(report.environments[1]?.deployments[1]?.message, REJECTION, 'the message whole');
  });

  test('a missing state directory or stack is named, and so is a stack without a region', async () => {
    const cwd = await freshDirectory();
    cleanup.push(cwd);
    const local = await ferry(['status'], { cwd });
    assert.equal(local.code, 1);
    assert.match(local.stderr, new RegExp(`no Ferry state in ${cwd}/.ferry`));
    const aws = await ferry(['status', '--stack', 'no-such-stack', '--region', installs.stack.region]);
    assert.equal(aws.code, 1);
    assert.match(aws.stderr, new RegExp(`no stack no-such-stack in ${installs.stack.region}`));
    const regionless = await ferry(['status', '--stack', 'x'], {
      env: { ...process.env, AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    });
    assert.equal(regionless.code, 2);
    assert.match(regionless.stderr, /--stack needs --region/);
  });
});

describe('ferry history', () => {
  test('deployments with short ids, commit, trigger, result, duration and objects, alike for both', async () => {
    const local = await ferry(['history', 'shop/staging', ...installs.local]);
    const aws = await ferry(['history', 'shop', 'staging', ...installs.aws]);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(aws.code, 0, aws.stderr);
    assert.equal(local.stdout, aws.stdout);
    const expected = [
      'ID        STARTED               RESULT              COMMIT        REF              TRIGGER        DURATION',
      `7777dddd  2026-12-01T11:59:59Z  failed (transient)  ${B.slice(0, 12)}  refs/heads/main  push (github)  1.0 s`,
      `  ${UNREACHABLE}`,
      `3333bbbb  2026-12-01T11:00:00Z  failed (rejected)   ${B.slice(0, 12)}  refs/heads/main  push (github)  1.0 s`,
      '  1 object(s) rejected, nothing applied:',
      '  Deployment shop/web: spec.replicas: expected integer',
      '    failed  Deployment shop/web',
      '            spec.replicas: expected integer',
      `1111aaaa  2026-12-01T10:00:00Z  succeeded           ${A.slice(0, 12)}  refs/heads/main  push (github)  4.2 s`,
      '  applied 1, 1 unchanged',
      '    created  ConfigMap shop/settings',
      '    1 unchanged',
      '',
    ].join('\n');
    assert.equal(local.stdout, expected);
    const json = await ferry(['history', 'shop/production', '--json', '--limit', '1', ...installs.aws]);
    assert.deepEqual(
      (JSON.parse(json.stdout) as DeploymentRecord[]).map((r) => [r.id, r.trigger.kind]),
      [['mj0ccccc-5555cccc66', 'manual']],
    );
  });
});

describe('ferry suspend, resume and wait', () => {
  test('suspend records who, when and why in the part state; status shows it; a second suspend says so', async () => {
    for (const target of [installs.local, installs.aws]) {
      const suspended = await ferry([
        'suspend',
        'shop/production',
        '--reason',
        'freeze for the audit',
        ...target,
      ]);
      assert.equal(suspended.code, 0, suspended.stderr);
      assert.equal(
        suspended.stdout,
        'Suspended shop/production/app: pushes and checks deploy nothing until `ferry resume shop/production`.\n',
      );
      const again = await ferry(['suspend', 'shop/production', ...target]);
      assert.match(again.stdout, /^shop\/production\/app is already suspended, by \S+ since /);
      const status = await ferry(['status', 'shop/production', ...target]);
      assert.match(status.stdout, /^shop\/production\/app \(suspended\) +Synced/m);
      assert.match(status.stdout, /^ {2}suspended by \S+ since \S+Z: freeze for the audit$/m);
    }
    const state = await new DynamoDbEnvironmentStore(installs.stack.tableName).get(production);
    assert.equal(state?.suspended?.reason, 'freeze for the audit');
    const unknown = await ferry(['suspend', 'shop/nowhere', ...installs.aws]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no part shop\/nowhere\/app in the configuration/);
  });

  test('wait: exit 0 once the part is Synced, 1 when the time runs out, saying what it is instead', async () => {
    for (const target of [installs.local, installs.aws]) {
      const synced = await ferry(['wait', 'shop/production', '--synced', '--timeout', '10s', ...target]);
      assert.equal(synced.code, 0, synced.stderr);
      assert.match(synced.stderr, /shop\/production\/app Synced \(after \d/);
      const failed = await ferry(['wait', 'shop/staging', '--timeout', '1s', ...target]);
      assert.equal(failed.code, 1);
      assert.match(
        failed.stderr,
        /shop\/staging\/app Synced: not within 1\.0 s; it is Failed: 1 object\(s\) rejected, nothing applied:/,
      );
    }
  });

  test('wait returns when a deployment makes the part Synced at the commit asked for', async () => {
    const store = new DynamoDbEnvironmentStore(installs.stack.tableName);
    const cwd = await freshDirectory();
    cleanup.push(cwd);
    const child = spawn(
      process.execPath,
      [FERRY, 'wait', 'shop/staging', '--commit', A, '--timeout', '60s', ...installs.aws],
      {
        cwd,
        env: userEnvironment(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    // Once it has seen the part Failed, a deployment makes it Synced at A.
    while (!/: Failed/.test(stderr) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const fixed = record(staging, 'mj0eeeee-9999eeee00', { startedAt: '2026-12-01T13:00:00.000Z' });
    await recorded(store, fixed, applied(fixed));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /^Waiting for shop\/staging\/app Synced at a1a1a1a1a1a1: Failed: 1 object\(s\) rejected/m,
    );
    assert.match(stderr, /^shop\/staging\/app Synced at a1a1a1a1a1a1 \(after /m);
  });
});

describe('ferry redrive', () => {
  test('shows the dead letters, then puts them back on the deploy queue in their part', async () => {
    const shown = [
      '1 dead letter(s):',
      `  dead letter <id>: shop/staging/app ${B.slice(0, 12)} (refs/heads/main) push, 1 attempt(s), failed at 2026-12-01T12:00:00Z`,
      `    ${UNREACHABLE}`,
    ];
    for (const target of [installs.local, installs.aws]) {
      const dry = await ferry(['redrive', '--dry-run', ...target]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(
        dry.stdout
          .replace(/dead letter \S+:/g, 'dead letter <id>:')
          .trim()
          .split('\n'),
        shown,
      );
      const none = await ferry(['redrive', 'other', ...target]);
      assert.equal(none.stdout, 'No dead letters of other.\n');
      const moved = await ferry(['redrive', 'shop/staging', ...target]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /^Put 1 back on the deploy queue/m);
      const after = await ferry(['redrive', ...target]);
      assert.equal(after.stdout, 'No dead letters.\n');
    }
    const db = openDatabase(installs.stateDir);
    const pending = new SqliteJobQueue(db).pending();
    db.close();
    assert.deepEqual(
      pending.map((p) => [p.group, p.job.id, p.attempts]),
      [[partId(deadJob), deadJob.id, 0]],
    );
    const requeued = await receiveAll(installs.stack.deployQueueUrl);
    assert.deepEqual(
      requeued.map((m) => [m.groupId, m.body.id]),
      [[partId(deadJob), deadJob.id]],
    );
  });
});
