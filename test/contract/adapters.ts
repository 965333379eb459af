// The adapters the contract suites run against, each fresh: the local mode's SQLite database in a temporary
// state directory, and the AWS adapters' table and queues created in the test bed's moto.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { createDeployQueue, createStateTable } from '../support/aws.ts';
import { uniqueName } from '../support/testbed.ts';

/** A local state database in a temporary state directory of its own. */
export async function openStateDatabase(): Promise<{ db: DatabaseSync; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-contract-'));
  const db = openDatabase(dir);
  return {
    db,
    close: async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A state table in moto, shaped as the stack creates it, with a client; `close` deletes the table. */
export async function openStateTable(): Promise<{
  tableName: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}> {
  const tableName = await createStateTable();
  const client = new DynamoDBClient({});
  return {
    tableName,
    client,
    close: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

/** An SQS queue in moto with a client; `close` deletes the queue. */
export interface OpenQueue {
  readonly queueUrl: string;
  readonly sqs: SQSClient;
  /** Up to `max` messages visible now, with their message group; each is hidden for a minute once taken. */
  receive(max: number): Promise<Message[]>;
  delete(message: Message): Promise<void>;
  close(): Promise<void>;
}

async function openQueue(queueUrl: string, sqs: SQSClient): Promise<OpenQueue> {
  return {
    queueUrl,
    sqs,
    receive: async (max) =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 60,
            MessageSystemAttributeNames: ['MessageGroupId'],
          }),
        )
      ).Messages ?? [],
    delete: async (message) => {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    },
    close: async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      sqs.destroy();
    },
  };
}

/** The FIFO deploy queue, shaped as the stack creates it. */
export async function openDeployQueue(): Promise<OpenQueue> {
  return openQueue(await createDeployQueue(), new SQSClient({}));
}

/** The standard check queue, as the stack creates it. */
export async function openCheckQueue(): Promise<OpenQueue> {
  const sqs = new SQSClient({});
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('ferry-checks') }));
  if (QueueUrl === undefined) throw new Error('moto returned no queue URL');
  return openQueue(QueueUrl, sqs);
}
