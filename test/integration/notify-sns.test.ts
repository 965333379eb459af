// The SNS notifier against moto: SQS queues subscribed to the topic read back what subscribers get, the
// structured message and the attributes that filter policies select on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { notificationOf } from '../../functions/adapters/notify/event.ts';
import { SnsNotifier, topicNotifiers } from '../../functions/adapters/notify/sns.ts';
import { classify, Failure } from '../../functions/core/errors.ts';
import { receiveAll } from '../support/aws.ts';
import { syncChange } from '../support/sync-change.ts';
import { uniqueName } from '../support/testbed.ts';

const sns = new SNSClient({});
const sqs = new SQSClient({});

/** A queue that the topic may deliver to, subscribed with a filter policy or none. */
async function subscribedQueue(
  topicArn: string,
  options: { filter?: object; raw?: boolean; fifo?: boolean } = {},
): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand(
      options.fifo
        ? { QueueName: `${uniqueName('ferry-notified')}.fifo`, Attributes: { FifoQueue: 'true' } }
        : { QueueName: uniqueName('ferry-notified') },
    ),
  );
  assert.ok(QueueUrl);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = Attributes?.QueueArn;
  assert.ok(queueArn);
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl,
      Attributes: {
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queueArn,
              Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
            },
          ],
        }),
      },
    }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: {
        ...(options.filter === undefined ? {} : { FilterPolicy: JSON.stringify(options.filter) }),
        ...(options.raw ? { RawMessageDelivery: 'true' } : {}),
      },
    }),
  );
  return QueueUrl;
}

async function topic(name = uniqueName('ferry-events')): Promise<string> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  assert.ok(TopicArn);
  return TopicArn;
}

interface Envelope {
  Type: string;
  TopicArn: string;
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

describe('SNS notifier', () => {
  test('publishes the event as JSON with a subject and attributes to filter on', async () => {
    const topicArn = await topic();
    const queue = await subscribedQueue(topicArn);
    const failed = syncChange();
    await new SnsNotifier(topicArn).notify(failed);
    const messages = await receiveAll<Envelope>(queue);
    assert.equal(messages.length, 1);
    const envelope = messages[0]?.body;
    assert.ok(envelope);
    assert.equal(envelope.Type, 'Notification');
    assert.equal(envelope.TopicArn, topicArn);
    assert.equal(envelope.Subject, 'Ferry: shop/production failed at 3f2c1a9e0b4d');
    assert.deepEqual(JSON.parse(envelope.Message), notificationOf(failed));
    assert.deepEqual(envelope.MessageAttributes, {
      app: { Type: 'String', Value: 'shop' },
      environment: { Type: 'String', Value: 'production' },
      part: { Type: 'String', Value: 'app' },
      status: { Type: 'String', Value: 'Failed' },
      event: { Type: 'String', Value: 'failed' },
    });
  });

  test('a subscription filters by app, environment and status', async () => {
    const topicArn = await topic();
    const production = await subscribedQueue(topicArn, {
      filter: { environment: ['production'], status: ['Failed', 'OutOfSync'] },
      raw: true,
    });
    const everything = await subscribedQueue(topicArn);
    const notifier = new SnsNotifier(topicArn);
    const key = { app: 'shop', environment: 'production', part: 'app' } as const;
    await notifier.notify(syncChange({ key }));
    await notifier.notify(syncChange({ key: { ...key, environment: 'staging' } }));
    await notifier.notify(syncChange({ key, from: 'Failed', to: 'Synced' }));
    await notifier.notify(syncChange({ key: { ...key, app: 'blog' }, to: 'OutOfSync' }));
    const filtered = (await receiveAll<{ app: string; environment: string; event: string }>(production)).map(
      (m) => `${m.body.app}/${m.body.environment} ${m.body.event}`,
    );
    assert.deepEqual(filtered.sort(), ['blog/production out-of-sync', 'shop/production failed']);
    assert.equal((await receiveAll(everything)).length, 4);
  });

  test('a FIFO topic gets the part as the message group and the delivery id as the deduplication id', async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: `${uniqueName('ferry-events')}.fifo`,
        Attributes: { FifoTopic: 'true' },
      }),
    );
    assert.ok(TopicArn);
    const queue = await subscribedQueue(TopicArn, { fifo: true, raw: true });
    const notifier = new SnsNotifier(TopicArn);
    const failed = syncChange();
    await notifier.notify(failed);
    await notifier.notify(failed);
    await notifier.notify(syncChange({ from: 'Failed', to: 'Synced' }));
    const messages = await receiveAll<{ id: string; event: string }>(queue);
    assert.deepEqual(
      messages.map((m) => [m.groupId, m.body.event]),
      [
        ['shop/production/app', 'failed'],
        ['shop/production/app', 'recovered'],
      ],
      'the repeated change is delivered once, and the part keeps its order',
    );
  });

  test('a topic that does not exist is a configuration failure, named without the message', async () => {
    const missing = (await topic()).replace(/[^:]+$/, uniqueName('no-such-topic'));
    const notifier = new SnsNotifier(missing);
    await assert.rejects(notifier.notify(syncChange()), (error: unknown) => {
      assert.ok(error instanceof Failure);
      assert.equal(classify(error), 'configuration');
      assert.match(error.message, /^sns: the topic refused the message \(\w+\)$/);
      return true;
    });
  });

  test('a change to Unknown publishes nothing', async () => {
    const topicArn = await topic();
    const queue = await subscribedQueue(topicArn);
    await new SnsNotifier(topicArn).notify(syncChange({ to: 'Unknown' }));
    assert.deepEqual(await receiveAll(queue), []);
  });

  test('a function publishes to the topic the stack names in its environment, and without one to none', async () => {
    assert.deepEqual(topicNotifiers({}), []);
    const topicArn = await topic();
    const queue = await subscribedQueue(topicArn, { raw: true });
    const notifiers = topicNotifiers({ FERRY_NOTIFICATION_TOPIC_ARN: topicArn });
    assert.deepEqual(
      notifiers.map((n) => n.name),
      ['sns'],
    );
    await notifiers[0]?.notify(syncChange());
    assert.equal((await receiveAll(queue)).length, 1);
  });
});
