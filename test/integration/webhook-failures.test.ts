// The webhook Lambda when AWS fails it: 500, so that the Git host retries, and nothing recorded that would make
// the retry look like a duplicate. Real failures of moto's services: a queue, a table or a secret that is missing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { DeleteTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { UNREADABLE_SECRET_SECONDS } from '../../functions/core/intake/secrets.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import { createDeployQueue, createStateTable, receiveAll } from '../support/aws.ts';
import { uniqueName } from '../support/testbed.ts';
import {
  apiEvent,
  type Delivery,
  githubDelivery,
  githubPush,
  lambdaContext,
  type Payload,
} from '../support/webhooks.ts';

const SECRET = randomUUID();
const secretName = uniqueName('ferry/shop/webhook');
const lateSecretName = uniqueName('ferry/late/webhook');

const config = {
  repositories: [
    { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: secretName },
    {
      name: 'late',
      url: 'https://github.com/acme/late.git',
      provider: 'github',
      webhookSecret: lateSecretName,
    },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: ['shop', 'late'].map((name) => ({
    name,
    repository: name,
    path: 'deploy',
    environments: [{ name: 'staging', cluster: 'main', namespace: name, trigger: { branches: ['main'] } }],
  })),
} satisfies ConfigInput;

const sqs = new SQSClient({});
const dynamodb = new DynamoDBClient({});
let queueUrl: string;
let tableName: string;
let handler: typeof import('../../functions/webhook/handler.ts').handler;

before(async () => {
  [queueUrl, tableName] = await Promise.all([createDeployQueue(), createStateTable()]);
  await new SecretsManagerClient({}).send(
    new CreateSecretCommand({ Name: secretName, SecretString: SECRET }),
  );
  // As the stack builds it into the function: validated, defaults applied.
  process.env.FERRY_CONFIG_JSON = JSON.stringify(parseConfig(config));
  process.env.FERRY_QUEUE_URL = queueUrl;
  process.env.FERRY_TABLE_NAME = tableName;
  // The handler's error logs would clutter the test report; its logger reads the level when it is imported.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/webhook/handler.ts'));
});

async function deliver(delivery: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await handler(apiEvent(delivery), lambdaContext());
  return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') };
}

const push = (repository: string): Payload =>
  githubPush({ url: `https://github.com/acme/${repository}.git` });

const recorded = async (id: string) =>
  (
    await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `DELIVERY#github#${id}` }, sk: { S: 'DELIVERY' } },
      }),
    )
  ).Item !== undefined;

describe('webhook failures', () => {
  test('an SQS failure answers 500 and records nothing; the retry enqueues the job', async () => {
    const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const id = randomUUID();
    const delivery = githubDelivery(push('shop'), { secret: SECRET, id });

    const failed = await deliver(delivery);
    assert.deepEqual([failed.status, failed.body.error], [500, 'the deploy queue refused the jobs']);
    assert.equal(await recorded(id), false, 'the delivery is not recorded');

    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }),
    );
    assert.equal(QueueUrl, queueUrl, 'the queue is back at its URL');
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['FifoQueue'] }));

    const retry = await deliver(delivery);
    assert.equal(retry.status, 202);
    assert.equal(await recorded(id), true);
    const jobs = await receiveAll<DeployJob>(queueUrl);
    assert.deepEqual(
      jobs.map((j) => [j.groupId, j.body.trigger]),
      [['shop/staging/app', { kind: 'push', deliveryId: id, provider: 'github' }]],
    );
  });

  test('a malformed body is answered 400 even while a secret of the host cannot be read; a forged one 401', async () => {
    const malformed = await deliver(githubDelivery('{"ref": ', { secret: SECRET }));
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body.error), /^malformed body/);
    const forged = await deliver(githubDelivery('{"ref": ', { secret: randomUUID() }));
    assert.deepEqual([forged.status, forged.body.error], [401, 'X-Hub-Signature-256 does not match']);
  });

  test('a missing secret answers 500 (the host retries past a misconfiguration), then verifies', async () => {
    const delivery = githubDelivery(push('late'), { secret: SECRET });
    const failed = await deliver(delivery);
    assert.deepEqual(
      [failed.status, failed.body.error],
      [500, 'the webhook secret could not be read: it is missing or Ferry may not read it'],
    );
    const since = Date.now();
    await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: lateSecretName, SecretString: SECRET }),
    );
    // Remembered as unreadable for a while, so that deliveries do not read Secrets Manager each time.
    assert.equal((await deliver(delivery)).status, 500);
    await setTimeout(UNREADABLE_SECRET_SECONDS * 1000 - (Date.now() - since) + 100);
    const retry = await deliver(delivery);
    assert.equal(retry.status, 202);
    assert.equal((await receiveAll(queueUrl)).length, 1);
  });

  test('a DynamoDB failure answers 500 and enqueues nothing', async () => {
    // Last, as the table does not come back.
    await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    const answer = await deliver(githubDelivery(push('shop'), { secret: SECRET }));
    assert.deepEqual([answer.status, answer.body.error], [500, 'the delivery log could not be read']);
    assert.deepEqual(await receiveAll(queueUrl), []);
  });
});
