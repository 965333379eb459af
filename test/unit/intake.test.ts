// The intake's ordering of queue and delivery log, with in-process ports (the AWS adapters are exercised in
// test/integration/webhook*.test.ts against moto).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { createIntake } from '../../functions/core/intake/intake.ts';
import type { WebhookRequest } from '../../functions/core/intake/request.ts';
import { UNREADABLE_SECRET_SECONDS } from '../../functions/core/intake/secrets.ts';
import {
  type Delivery,
  githubDelivery,
  githubPush,
  MapSecretSource,
  MemoryDeliveryLog,
  MemoryJobQueue,
} from '../support/webhooks.ts';

const SECRET = 'shop-secret';
const config = parseConfig({
  repositories: [
    { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: 'shop-hook' },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'main', namespace: 'shop', trigger: { branches: ['main'] } },
        { name: 'qa', cluster: 'main', namespace: 'qa', trigger: { branches: ['main'] } },
      ],
    },
  ],
  settings: { maxWebhookBodyBytes: 4096 },
} satisfies ConfigInput);

const payload = githubPush({ url: 'https://github.com/acme/shop.git' });

function request(delivery: Delivery): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) headers[name.toLowerCase()] = value;
  const body = Buffer.from(delivery.body, delivery.isBase64Encoded ? 'base64' : 'utf8');
  return { headers, body };
}

function setUp() {
  const queue = new MemoryJobQueue();
  const deliveries = new MemoryDeliveryLog();
  const logs: { message: string; attributes: Record<string, unknown> }[] = [];
  const log = (message: string, attributes: Record<string, unknown>) => {
    logs.push({ message, attributes });
  };
  const intake = createIntake({
    config,
    queue,
    deliveries,
    secrets: new MapSecretSource({ 'shop-hook': SECRET }),
    logger: { info: log, warn: log, error: log },
    now: () => new Date('2026-11-02T10:00:00Z'),
  });
  return { intake, queue, deliveries, logs };
}

describe('intake', () => {
  test('enqueues one job per environment, then records the delivery', async () => {
    const { intake, queue, deliveries } = setUp();
    const id = randomUUID();
    const response = await intake(request(githubDelivery(payload, { secret: SECRET, id })));
    assert.equal(response.status, 202);
    assert.deepEqual(
      queue.jobs.map(({ id, ...job }) => job),
      ['staging', 'qa'].map((environment) => ({
        app: 'shop',
        environment,
        part: 'app',
        ref: 'refs/heads/main',
        commit: 'b'.repeat(40),
        trigger: { kind: 'push', deliveryId: id, provider: 'github' },
        enqueuedAt: '2026-11-02T10:00:00.000Z',
      })),
    );
    assert.deepEqual([...deliveries.keys], [`github#${id}`]);
  });

  test('job ids: 64 hex characters, one per delivery and environment part', async () => {
    const { intake, queue } = setUp();
    await intake(request(githubDelivery(payload, { secret: SECRET })));
    await intake(request(githubDelivery(payload, { secret: SECRET })));
    const ids = queue.jobs.map((job) => job.id);
    assert.equal(ids.length, 4);
    assert.ok(ids.every((id) => /^[0-9a-f]{64}$/.test(id)));
    assert.equal(new Set(ids).size, 4);
  });

  test('a failed enqueue answers 500 and records nothing, so the retry is enqueued', async () => {
    const { intake, queue, deliveries } = setUp();
    const delivery = githubDelivery(payload, { secret: SECRET });
    queue.failWith = new Error('SQS is down');
    assert.equal((await intake(request(delivery))).status, 500);
    assert.equal(deliveries.keys.size, 0);

    queue.failWith = undefined;
    const retry = await intake(request(delivery));
    assert.equal(retry.status, 202);
    assert.equal(queue.jobs.length, 2);
  });

  test('a failed record answers 500; the retry enqueues the same deduplication ids', async () => {
    const { intake, queue, deliveries } = setUp();
    const delivery = githubDelivery(payload, { secret: SECRET });
    deliveries.failWith = new Error('DynamoDB is down');
    assert.equal((await intake(request(delivery))).status, 500);
    deliveries.failWith = undefined;
    assert.equal((await intake(request(delivery))).status, 202);
    const ids = queue.jobs.map((job) => job.id);
    assert.equal(ids.length, 4);
    assert.equal(new Set(ids).size, 2, 'the queue drops the second copy of each');
  });
});

describe('intake answers', () => {
  test('a recorded delivery is acknowledged and not enqueued again', async () => {
    const { intake, queue } = setUp();
    const delivery = githubDelivery(payload, { secret: SECRET });
    assert.equal((await intake(request(delivery))).status, 202);
    const again = await intake(request(delivery));
    assert.equal(again.status, 200);
    assert.equal(again.body.ignored, 'delivery already handled');
    assert.equal(queue.jobs.length, 2);
  });

  test('answers 413 over the configured limit and 415 for other content types', async () => {
    const { intake } = setUp();
    const big = githubDelivery({ ...payload, padding: 'x'.repeat(5000) }, { secret: SECRET });
    assert.equal((await intake(request(big))).status, 413);
    const text = githubDelivery(payload, { secret: SECRET });
    const plain = request({ ...text, headers: { ...text.headers, 'Content-Type': 'text/plain' } });
    assert.equal((await intake(plain)).status, 415);
  });

  test('logs the delivery id and never the secret or the signature', async () => {
    const { intake, logs } = setUp();
    const id = randomUUID();
    const good = githubDelivery(payload, { secret: SECRET, id });
    await intake(request(good));
    const bad = githubDelivery(payload, { secret: 'wrong', id: randomUUID() });
    await intake(request(bad));
    const text = JSON.stringify(logs);
    assert.ok(logs.every((l) => typeof l.attributes.deliveryId === 'string'));
    assert.ok(text.includes(id));
    for (const secret of [SECRET, good.headers['X-Hub-Signature-256'], bad.headers['X-Hub-Signature-256']]) {
      assert.ok(secret !== undefined && !text.includes(secret));
    }
  });
});

describe('intake failures', () => {
  const missingConfig = parseConfig({
    ...config,
    repositories: [
      ...config.repositories,
      {
        name: 'late',
        url: 'https://github.com/acme/late.git',
        provider: 'github',
        webhookSecret: 'late-hook',
      },
    ],
    apps: [
      ...config.apps,
      {
        name: 'late',
        repository: 'late',
        path: 'deploy',
        environments: [
          { name: 'staging', cluster: 'main', namespace: 'late', trigger: { branches: ['main'] } },
        ],
      },
    ],
  } satisfies ConfigInput);

  test('a secret that cannot be read is read again only after a while', async () => {
    let now = new Date('2026-11-02T10:00:00Z');
    const secrets = new MapSecretSource({ 'shop-hook': SECRET });
    const log = () => undefined;
    const intake = createIntake({
      config: missingConfig,
      queue: new MemoryJobQueue(),
      deliveries: new MemoryDeliveryLog(),
      secrets,
      logger: { info: log, warn: log, error: log },
      now: () => now,
    });
    const late = () =>
      request(githubDelivery(githubPush({ url: 'https://github.com/acme/late.git' }), { secret: 'x' }));
    for (let i = 0; i < 20; i++) assert.equal((await intake(late())).status, 500);
    assert.equal(secrets.reads, 1, 'one read for twenty deliveries');
    secrets.values.set('late-hook', 'x');
    now = new Date(now.getTime() + UNREADABLE_SECRET_SECONDS * 1000);
    assert.equal((await intake(late())).status, 202);
    assert.equal(secrets.reads, 2);
  });

  test('nothing throws past the answer: a failure the steps do not expect is a 500, logged', async () => {
    const errors: string[] = [];
    const intake = createIntake({
      config,
      queue: new MemoryJobQueue(),
      deliveries: new MemoryDeliveryLog(),
      secrets: new MapSecretSource({ 'shop-hook': SECRET }),
      logger: {
        info(message) {
          if (message === 'jobs enqueued') throw new Error('the log is full');
        },
        warn: () => undefined,
        error: (message) => errors.push(message),
      },
    });
    const answer = await intake(request(githubDelivery(payload, { secret: SECRET })));
    assert.deepEqual(answer, { status: 500, body: { error: 'internal error' } });
    assert.deepEqual(errors, ['intake failed']);
  });
});
