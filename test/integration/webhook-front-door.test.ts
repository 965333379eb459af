// The front door as a Git host, or someone posing as one, meets it: every case of a malformed or replayed
// delivery, missing secrets, long refs and Bitbucket Cloud and Data Center deliveries, each through the webhook
// Lambda's handler (over moto's SQS, DynamoDB and Secrets Manager) and through the local mode's HTTP server
// (SQLite queue and delivery log, secrets from the environment), which both run the same intake.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { startHttpServer } from '../../functions/adapters/local/http-server.ts';
import { LocalSecretSource, secretVariable } from '../../functions/adapters/local/local-secret-source.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { SqliteJobQueue } from '../../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { createIntake } from '../../functions/core/intake/intake.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import { handler } from '../../functions/webhook/handler.ts';
import { createDeployQueue, createStateTable, receiveAll } from '../support/aws.ts';
import { uniqueName } from '../support/testbed.ts';
import {
  apiEvent,
  bitbucketDelivery,
  type Delivery,
  giteaDelivery,
  githubDelivery,
  githubPush,
  gitlabDelivery,
  lambdaContext,
  type Payload,
  signingToken,
  webhookFixture,
} from '../support/webhooks.ts';

const SECRETS = {
  shop: randomUUID(),
  infra: randomUUID(),
  platform: randomUUID(),
  platformSigning: signingToken(),
  storefront: randomUUID(),
  payments: randomUUID(),
};

interface Answer {
  readonly status: number;
  readonly body: {
    delivery?: string;
    jobs?: { app: string; environment: string; part: string; ref: string; commit: string; group: string }[];
    ignored?: string;
    error?: string;
  };
}

/** One way in: the Lambda handler or the local server, with what its ports hold. */
interface FrontDoor {
  deliver(delivery: Delivery): Promise<Answer>;
  /** The jobs enqueued since the last call, taken off the queue. */
  drain(): Promise<DeployJob[]>;
  /** Every log line written so far. */
  logs(): string;
  /** Creates or changes a secret (a missing one's name is `secretNames.missing`). */
  setSecret(name: string, value: string): Promise<void>;
  readonly secretNames: Record<'shop' | 'missing', string>;
}

function configFor(names: Record<string, string>): ConfigInput {
  const repository = (name: string, url: string, provider: string) => ({
    name,
    url,
    provider,
    webhookSecret: names[name] ?? name,
  });
  const app = (name: string, environments: { name: string; trigger: Record<string, string[]> }[]) => ({
    name,
    repository: name,
    path: 'deploy',
    environments: environments.map((e) => ({ ...e, cluster: 'main', namespace: name })),
  });
  const staging = { name: 'staging', trigger: { branches: ['main'] } };
  return {
    repositories: [
      repository('shop', 'https://github.com/acme/shop.git', 'github'),
      repository('missing', 'https://github.com/acme/missing.git', 'github'),
      repository('garbled', 'https://github.com/acme/garbled.git', 'github'),
      repository('infra', 'https://gitea.example.com/acme/infra.git', 'gitea'),
      repository('platform', 'https://gitlab.example.com/acme/platform.git', 'gitlab'),
      repository('storefront', 'https://bitbucket.org/acme/storefront.git', 'bitbucket'),
      repository('payments', 'https://bitbucket.example.com/scm/acme/payments.git', 'bitbucket-server'),
    ],
    clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
    apps: [
      app('shop', [staging]),
      app('missing', [staging]),
      app('garbled', [staging]),
      app('infra', [staging]),
      app('platform', [staging]),
      app('storefront', [staging, { name: 'production', trigger: { tags: ['v*'] } }]),
      app('payments', [staging]),
    ],
  } as ConfigInput;
}

/** The secrets every door starts with: all but `missing`, and `garbled` holding no valid value. */
const initialSecrets = (names: Record<string, string>): [string, string][] => [
  [names.shop ?? 'shop', SECRETS.shop],
  [names.garbled ?? 'garbled', '["a secret", 7]'],
  [names.infra ?? 'infra', SECRETS.infra],
  [names.platform ?? 'platform', JSON.stringify([SECRETS.platform, SECRETS.platformSigning])],
  [names.storefront ?? 'storefront', SECRETS.storefront],
  [names.payments ?? 'payments', SECRETS.payments],
];

// The handler's structured logs, captured to check what they hold.
const handlerLogs: string[] = [];
const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
function capture(stream: NodeJS.WriteStream, original: typeof process.stdout.write) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes('"service":"ferry-webhook"')) {
      handlerLogs.push(chunk);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof process.stdout.write;
}

async function lambdaDoor(): Promise<FrontDoor> {
  const secretsManager = new SecretsManagerClient({});
  const names = Object.fromEntries(
    ['shop', 'missing', 'garbled', 'infra', 'platform', 'storefront', 'payments'].map((n) => [
      n,
      uniqueName(`ferry/${n}/webhook`),
    ]),
  );
  const [queueUrl, tableName] = await Promise.all([createDeployQueue(), createStateTable()]);
  for (const [Name, SecretString] of initialSecrets(names)) {
    await secretsManager.send(new CreateSecretCommand({ Name, SecretString }));
  }
  process.env.FERRY_CONFIG_JSON = JSON.stringify(parseConfig(configFor(names)));
  process.env.FERRY_QUEUE_URL = queueUrl;
  process.env.FERRY_TABLE_NAME = tableName;
  capture(process.stdout, writes.stdout);
  capture(process.stderr, writes.stderr);
  const created = new Set(initialSecrets(names).map(([name]) => name));
  return {
    async deliver(delivery) {
      const response = await handler(apiEvent(delivery), lambdaContext());
      return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') };
    },
    drain: async () => (await receiveAll<DeployJob>(queueUrl)).map((message) => message.body),
    logs: () => handlerLogs.join('\n'),
    async setSecret(Name, SecretString) {
      if (created.has(Name)) {
        await secretsManager.send(new PutSecretValueCommand({ SecretId: Name, SecretString }));
      } else {
        await secretsManager.send(new CreateSecretCommand({ Name, SecretString }));
        created.add(Name);
      }
    },
    secretNames: { shop: names.shop ?? '', missing: names.missing ?? '' },
  };
}

async function localDoor(dir: string): Promise<FrontDoor & { close(): Promise<void> }> {
  const db = openDatabase(dir);
  const queue = new SqliteJobQueue(db);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of initialSecrets({})) env[secretVariable(name)] = value;
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const intake = createIntake({
    config: parseConfig(configFor({})),
    queue,
    deliveries: new SqliteStore(db),
    secrets: new LocalSecretSource({ env }),
    logger,
  });
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    webhook: intake,
    status: () => ({}),
    health: () => ({ ok: true }),
    maxBodyBytes: 6 * 1024 * 1024,
    logger,
  });
  return {
    async deliver(delivery) {
      const body = Buffer.from(delivery.body, delivery.isBase64Encoded ? 'base64' : 'utf8');
      const response = await fetch(`${server.url}/webhook`, {
        method: 'POST',
        headers: delivery.headers,
        body,
      });
      return { status: response.status, body: (await response.json()) as Answer['body'] };
    },
    async drain() {
      const pending = queue.pending();
      for (const { id } of pending) queue.complete(id);
      return pending.map(({ job }) => job);
    },
    logs: () => lines.join('\n'),
    async setSecret(name, value) {
      env[secretVariable(name)] = value;
    },
    secretNames: { shop: 'shop', missing: 'missing' },
    async close() {
      await server.close();
      db.close();
    },
  };
}

const shopPush = (extra: Payload = {}) => ({
  ...githubPush({ url: 'https://github.com/acme/shop.git' }),
  ...extra,
});
const jobsOf = (answer: Answer) => (answer.body.jobs ?? []).map((j) => `${j.group}@${j.commit.slice(0, 7)}`);

/** The cases, run against each door. */
function frontDoorCases(door: () => FrontDoor) {
  malformedDeliveryCases(door);
  bitbucketCases(door);
  secretCases(door);
}

/** Issue cases 1, 2 and 3: deliveries without a payload, replays, pushes of the wrong shape. */
function malformedDeliveryCases(door: () => FrontDoor) {
  test('1. a form delivery without a payload, signed or not, is refused with 401, never a 500', async () => {
    const forged = giteaDelivery(webhookFixture('gitea-push.json'), { secret: 'not the secret' });
    for (const body of ['payload=', 'payload=&x=1', 'x=1']) {
      const headers = { ...forged.headers, 'Content-Type': 'application/x-www-form-urlencoded' };
      const answer = await door().deliver({ headers, body });
      assert.deepEqual([answer.status, answer.body.error], [401, 'X-Gitea-Signature does not match'], body);
      const hubOnly = Object.fromEntries(
        Object.entries(headers).filter(([name]) => !name.startsWith('X-Gitea')),
      );
      assert.equal((await door().deliver({ headers: hubOnly, body })).status, 401, body);
    }
    const github = githubDelivery('', { signature: `sha256=${'0'.repeat(64)}`, form: true });
    assert.equal((await door().deliver(github)).status, 401);
    assert.deepEqual(await door().drain(), []);
  });

  test('2. a signed GitLab delivery sent again with another Idempotency-Key is a redelivery', async () => {
    const id = randomUUID();
    const delivery = gitlabDelivery(webhookFixture('gitlab-push.json'), {
      token: SECRETS.platform,
      signingToken: SECRETS.platformSigning,
      id,
    });
    const first = await door().deliver(delivery);
    assert.deepEqual([first.status, first.body.delivery], [202, id]);
    const replay = {
      ...delivery,
      headers: { ...delivery.headers, 'Idempotency-Key': randomUUID(), 'X-Gitlab-Event-UUID': randomUUID() },
    };
    const again = await door().deliver(replay);
    assert.deepEqual([again.status, again.body.ignored], [200, 'delivery already handled']);
    assert.equal((await door().drain()).length, 1);
  });

  test('3. a signed push of the wrong shape is a 400 naming the field, never a job', async () => {
    const bomb = (depth: number): unknown => (depth === 0 ? [] : [bomb(depth - 1)]);
    const cases: [Payload, string][] = [
      [{ ref: 42 }, 'malformed push: "ref" is not a full ref'],
      [{ ref: ['refs/heads/main'] }, 'malformed push: "ref" is not a full ref'],
      [
        { after: 'a'.repeat(64) },
        'malformed push: "after" is a SHA-256 object id: SHA-256 repositories are not supported',
      ],
      [{ after: 'B'.repeat(40) }, 'malformed push: "after" is not a Git object id'],
      [{ head_commit: { id: 'c'.repeat(39) } }, 'malformed push: "head_commit.id" is not a Git object id'],
      [{ commits: [bomb(2000)] }, 'malformed push: "commits[0]" is not an object'],
      [{ commits: { 0: { added: [] } } }, 'malformed push: "commits" is not a list'],
      [{ commits: [{ added: [['deep']] }] }, 'malformed push: "commits[0].added[0]" is not a path'],
    ];
    for (const [extra, error] of cases) {
      const answer = await door().deliver(githubDelivery(shopPush(extra), { secret: SECRETS.shop }));
      assert.deepEqual([answer.status, answer.body.error], [400, error]);
    }
    assert.deepEqual(await door().drain(), []);
  });
}

/** Bitbucket Cloud and Data Center deliveries. */
function bitbucketCases(door: () => FrontDoor) {
  test('Bitbucket Cloud: a push deploys, a redelivery does not, a tag and a branch in one push deploy both', async () => {
    const id = randomUUID();
    const push = webhookFixture('bitbucket-push.json');
    const delivery = bitbucketDelivery(push, { secret: SECRETS.storefront, id });
    const answer = await door().deliver(delivery);
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['storefront/staging/app@f7e0e62']);
    const [job] = await door().drain();
    assert.deepEqual(job?.trigger, { kind: 'push', deliveryId: id, provider: 'bitbucket' });
    assert.equal(job?.ref, 'refs/heads/main');
    const again = await door().deliver(delivery);
    assert.deepEqual([again.status, again.body.ignored], [200, 'delivery already handled']);

    const [change] = (push.push as { changes: Payload[] }).changes;
    const tag = {
      ...change,
      old: null,
      new: { type: 'tag', name: 'v1.2.0', target: { type: 'commit', hash: 'e'.repeat(40) } },
      created: true,
    };
    const both = { ...push, push: { changes: [change, tag] } };
    const two = await door().deliver(bitbucketDelivery(both, { secret: SECRETS.storefront }));
    assert.deepEqual(jobsOf(two), ['storefront/staging/app@f7e0e62', 'storefront/production/app@eeeeeee']);
    assert.equal((await door().drain()).length, 2);
  });

  test('Bitbucket Cloud: a deletion, another event, a wrong and a missing signature', async () => {
    const push = webhookFixture('bitbucket-push.json');
    const [change] = (push.push as { changes: Payload[] }).changes;
    const deletion = { ...push, push: { changes: [{ ...change, new: null, closed: true }] } };
    const deleted = await door().deliver(bitbucketDelivery(deletion, { secret: SECRETS.storefront }));
    assert.deepEqual([deleted.status, deleted.body.ignored], [200, 'branch deletion']);
    const fork = await door().deliver(
      bitbucketDelivery(push, { secret: SECRETS.storefront, event: 'repo:fork' }),
    );
    assert.deepEqual([fork.status, fork.body.ignored], [200, 'event "repo:fork" is not handled']);
    const wrong = await door().deliver(bitbucketDelivery(push, { secret: 'guess' }));
    assert.deepEqual([wrong.status, wrong.body.error], [401, 'X-Hub-Signature does not match']);
    const unsigned = await door().deliver(bitbucketDelivery(push));
    assert.deepEqual([unsigned.status, unsigned.body.error], [401, 'missing X-Hub-Signature']);
    assert.deepEqual(await door().drain(), []);
  });

  test('Bitbucket Data Center: a push deploys, the test connection is answered 200, a deletion ignored', async () => {
    const id = randomUUID();
    const push = webhookFixture('bitbucket-server-push.json');
    const answer = await door().deliver(
      bitbucketDelivery(push, { server: true, secret: SECRETS.payments, id }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['payments/staging/app@d56737a']);
    const [job] = await door().drain();
    assert.deepEqual(job?.trigger, { kind: 'push', deliveryId: id, provider: 'bitbucket-server' });
    const again = await door().deliver(
      bitbucketDelivery(push, { server: true, secret: SECRETS.payments, id }),
    );
    assert.deepEqual([again.status, again.body.ignored], [200, 'delivery already handled']);

    const ping = bitbucketDelivery(webhookFixture('bitbucket-server-ping.json'), {
      server: true,
      secret: SECRETS.payments,
      event: 'diagnostics:ping',
    });
    const pong = await door().deliver(ping);
    assert.deepEqual(
      [pong.status, pong.body.ignored],
      [200, 'ping; no bitbucket-server repository configured for the payload'],
    );
    const [change] = push.changes as Payload[];
    const deletion = { ...push, changes: [{ ...change, toHash: '0'.repeat(40), type: 'DELETE' }] };
    const deleted = await door().deliver(
      bitbucketDelivery(deletion, { server: true, secret: SECRETS.payments }),
    );
    assert.deepEqual([deleted.status, deleted.body.ignored], [200, 'branch deletion']);
    assert.deepEqual(await door().drain(), []);
  });
}

/** Issue cases 5 and 4: long refs, secrets that cannot be read. */
function secretCases(door: () => FrontDoor) {
  test('5. refs are cut in answers and logs; a ref longer than 1024 characters is refused', async () => {
    const huge = `refs/heads/${'x'.repeat(100_000)}`;
    const refused = await door().deliver(githubDelivery(shopPush({ ref: huge }), { secret: SECRETS.shop }));
    assert.deepEqual(
      [refused.status, refused.body.error],
      [400, 'malformed push: "ref" is longer than 1024 characters'],
    );
    const long = `refs/heads/feature/${'y'.repeat(900)}`;
    const ignored = await door().deliver(githubDelivery(shopPush({ ref: long }), { secret: SECRETS.shop }));
    assert.equal(ignored.status, 200);
    assert.match(
      ignored.body.ignored ?? '',
      /^no environment is triggered by refs\/heads\/feature\/y+… \(919 characters in all\)$/,
    );
    assert.ok(JSON.stringify(ignored.body).length < 400);
    const logs = door().logs();
    assert.ok(
      !logs.includes('x'.repeat(300)) && !logs.includes('y'.repeat(300)),
      'a long ref was logged whole',
    );
    assert.deepEqual(await door().drain(), []);
  });
  test('4. a missing secret is read once in a while, a forged malformed body is 401, a garbled secret named', async () => {
    const missing = githubDelivery(githubPush({ url: 'https://github.com/acme/missing.git' }), {
      secret: SECRETS.shop,
    });
    const failed = await door().deliver(missing);
    assert.equal(failed.status, 500);
    assert.match(failed.body.error ?? '', /^the webhook secret could not be read/);
    // Created now, but remembered as unreadable for a while: the next delivery does not read it again.
    await door().setSecret(door().secretNames.missing, SECRETS.shop);
    assert.equal((await door().deliver(missing)).status, 500);

    const forged = await door().deliver(githubDelivery('{"ref": ', { secret: randomUUID() }));
    assert.deepEqual([forged.status, forged.body.error], [401, 'X-Hub-Signature-256 does not match']);
    const authentic = await door().deliver(githubDelivery('{"ref": ', { secret: SECRETS.shop }));
    assert.equal(authentic.status, 400);

    const garbled = await door().deliver(
      githubDelivery(githubPush({ url: 'https://github.com/acme/garbled.git' }), { secret: 'a secret' }),
    );
    assert.deepEqual(
      [garbled.status, garbled.body.error],
      [500, 'the webhook secret is not a string or a JSON array of strings'],
    );
    assert.deepEqual(await door().drain(), []);
  });
}

describe('through the webhook Lambda', () => {
  let door: FrontDoor;
  before(async () => {
    door = await lambdaDoor();
  });
  after(() => {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  });
  frontDoorCases(() => door);

  test('1. the handler keeps its intake and cached secrets across every answer, a 500 included', async () => {
    const payload = githubPush({ url: 'https://github.com/acme/shop.git' });
    assert.equal((await door.deliver(githubDelivery(payload, { secret: SECRETS.shop }))).status, 202);
    const missing = githubDelivery(githubPush({ url: 'https://github.com/acme/missing.git' }), {
      secret: randomUUID(),
    });
    assert.notEqual((await door.deliver(missing)).status, 202);
    const form = giteaDelivery(webhookFixture('gitea-push.json'), { secret: 'forged' });
    const headers = { ...form.headers, 'Content-Type': 'application/x-www-form-urlencoded' };
    assert.equal((await door.deliver({ headers, body: 'payload=' })).status, 401);
    // Secrets Manager holds another value now; the warm handler still verifies with the one it read.
    await door.setSecret(door.secretNames.shop, randomUUID());
    assert.equal((await door.deliver(githubDelivery(payload, { secret: SECRETS.shop }))).status, 202);
    assert.equal((await door.drain()).length, 2);
  });
});

describe('through the local server', () => {
  let door: Awaited<ReturnType<typeof localDoor>>;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-front-door-'));
    door = await localDoor(dir);
  });
  after(async () => {
    await door.close();
    await rm(dir, { recursive: true, force: true });
  });
  frontDoorCases(() => door);
});
