// The scheduler and reconciler Lambdas' handlers with EventBridge and SQS events against moto.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { parseConfig } from '../../functions/core/config.ts';
import { planChecks } from '../../functions/core/reconcile/schedule.ts';
import { handler as reconcilerHandler } from '../../functions/reconciler/handler.ts';
import { handler as schedulerHandler } from '../../functions/scheduler/handler.ts';
import { createDeployQueue, receiveAll } from '../support/aws.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { messagesEvent } from '../support/sqs-worker.ts';
import { uniqueName } from '../support/testbed.ts';

const context = {
  functionName: 'f',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

function manyEnvironments(count: number) {
  return parseConfig({
    repositories: [
      { name: 'r', url: 'https://git.example.com/o/r.git', provider: 'github', webhookSecret: 's' },
    ],
    clusters: [{ name: 'c', type: 'kubeconfig' }],
    apps: Array.from({ length: count / 10 }, (_, a) => ({
      name: `app-${a}`,
      repository: 'r',
      path: 'deploy',
      environments: Array.from({ length: 10 }, (_, e) => ({
        name: `env-${e}`,
        cluster: 'c',
        namespace: `ns-${e}`,
        trigger: { branches: ['main'] },
      })),
    })),
    settings: { reconcileJitterSeconds: 0 },
  });
}

describe('scheduler', () => {
  test('a tick over 200 environments enqueues 200 checks and returns', async () => {
    const sqs = new SQSClient({});
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('ferry-checks') }));
    process.env.FERRY_CHECK_QUEUE_URL = QueueUrl;
    process.env.FERRY_CONFIG_JSON = JSON.stringify(manyEnvironments(200));
    const event = { id: 'tick-1', time: new Date().toISOString() } as ScheduledEvent;
    const started = Date.now();
    assert.deepEqual(await schedulerHandler(event, context), { checks: 200 });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    assert.equal(Attributes?.ApproximateNumberOfMessages, '200');
    console.log(`tick of 200 environments: ${Date.now() - started} ms`);
  });
});

describe('reconciler', () => {
  test('checks the environments of a batch, recording each; a malformed message fails alone', async () => {
    const fixture = await deployFixture({ autoSync: false });
    const commit = await fixture.workspace.commit({ 'deploy/cm.yaml': yaml(configMap('c', { v: '1' })) });
    await fixture.workspace.push();
    process.env.FERRY_CONFIG_JSON = JSON.stringify(fixture.deps.config);
    process.env.FERRY_TABLE_NAME = fixture.table;
    process.env.FERRY_QUEUE_URL = await createDeployQueue();
    const [{ check } = { check: undefined }] = planChecks(fixture.deps.config, 'tick-2', new Date(), () => 0);
    const checks = 'https://sqs.us-east-1.amazonaws.com/123456789012/checks';
    const event = messagesEvent(checks, [[JSON.stringify(check)], ['garbage']]);
    const response = await reconcilerHandler(event, context);
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: 'm-1' }]);
    const state = await fixture.store.get({ app: fixture.app, environment: 'staging', part: 'app' });
    assert.equal(state?.sync.status, 'OutOfSync');
    assert.match(state?.sync.message ?? '', new RegExp(`refs/heads/main is at ${commit.slice(0, 12)}`));
    assert.deepEqual(await receiveAll(process.env.FERRY_QUEUE_URL), [], 'autoSync off: nothing enqueued');
  });
});
