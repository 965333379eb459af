import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { uniqueName } from './testbed.ts';

/** A fresh state table in moto, shaped as the CDK stack creates it. */
export async function createStateTable(): Promise<string> {
  const dynamodb = new DynamoDBClient({});
  const TableName = uniqueName('ferry-state');
  await dynamodb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    }),
  );
  return TableName;
}

/** A fresh FIFO deploy queue in moto, shaped as the CDK stack creates it. */
export async function createDeployQueue(): Promise<string> {
  const sqs = new SQSClient({});
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${uniqueName('ferry-deploy')}.fifo`,
      Attributes: { FifoQueue: 'true' },
    }),
  );
  if (QueueUrl === undefined) throw new Error('moto returned no queue URL');
  return QueueUrl;
}

/** Drains up to `max` messages from a queue (deleting each, as FIFO groups hold back the next until then). */
export async function receiveAll<T>(queueUrl: string, max = 100): Promise<{ body: T; groupId: string }[]> {
  const sqs = new SQSClient({});
  const received: { body: T; groupId: string }[] = [];
  while (received.length < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      received.push({
        body: JSON.parse(message.Body ?? 'null') as T,
        groupId: message.Attributes?.MessageGroupId ?? '',
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return received;
}
