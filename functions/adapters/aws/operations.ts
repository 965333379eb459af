// The operations port on an AWS install, with the caller's own credentials: the stack's state table, queried
// part by part (a table lists no parts without a Scan, so the parts come from the configuration), its deploy
// queue (counted, never read: its messages belong to the worker) and its dead-letter queue, whose messages are
// looked at and made visible again at once, or moved back to the deploy queue by a redrive.
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeployJob, jobGroup, parseDeployJob } from '../../core/model/job.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { CheckRecord, DeploymentRecord, Suspension } from '../../core/model/records.ts';
import type { DeadLetterStatus, PartSnapshot, QueueSnapshot } from '../../core/model/status.ts';
import type { Operations } from '../../core/ports.ts';
import { DynamoDbEnvironmentStore } from './dynamodb-environment-store.ts';
import { SqsJobQueue } from './sqs-job-queue.ts';

/** Where an install keeps its state and jobs: what the stack's outputs name. */
export interface AwsInstallResources {
  readonly tableName: string;
  readonly deployQueueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** Dead letters looked at per call: ten receives of ten. */
const MAX_RECEIVES = 10;
/** How long a dead letter being looked at stays hidden, should this process die before it shows it again. */
const LOOK_SECONDS = 30;
/** History records searched for a dead letter's attempts. */
const HISTORY_SEARCHED = 25;

export class AwsOperations implements Operations {
  readonly #store: DynamoDbEnvironmentStore;
  readonly #queue: SqsJobQueue;
  readonly #sqs: SQSClient;
  readonly #resources: AwsInstallResources;

  constructor(
    resources: AwsInstallResources,
    clients: { readonly dynamodb?: DynamoDBClient; readonly sqs?: SQSClient } = {},
  ) {
    this.#resources = resources;
    this.#sqs = clients.sqs ?? new SQSClient({});
    this.#store = new DynamoDbEnvironmentStore(resources.tableName, clients.dynamodb);
    this.#queue = new SqsJobQueue(resources.deployQueueUrl, this.#sqs);
  }

  /** None beyond the configured ones: the table is read by key only. */
  async parts(): Promise<PartKey[]> {
    return [];
  }

  part(key: PartKey): Promise<PartSnapshot> {
    return this.#store.summary(key);
  }

  history(key: PartKey, limit: number): Promise<DeploymentRecord[]> {
    return this.#store.listDeployments(key, limit);
  }

  checks(key: PartKey, limit: number): Promise<CheckRecord[]> {
    return this.#store.listChecks(key, limit);
  }

  async queue(): Promise<QueueSnapshot> {
    const { Attributes = {} } = await this.#sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#resources.deployQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      queued: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      running: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      listsJobs: false,
      jobs: [],
    };
  }

  async deadLetters(): Promise<DeadLetterStatus[]> {
    const messages = await this.#receiveDeadLetters();
    try {
      return await Promise.all(messages.map((message) => this.#describe(message)));
    } finally {
      await this.#showAgain(messages);
    }
  }

  enqueue(jobs: readonly DeployJob[]): Promise<void> {
    return this.#queue.enqueue(jobs);
  }

  /**
   * Sends each dead letter named back to the deploy queue, in its part's message group, then deletes it from the
   * dead-letter queue. A redrive is deliberate, so it is never deduplicated against the job's first sending.
   */
  async redrive(ids: readonly string[]): Promise<string[]> {
    const wanted = new Set(ids);
    const messages = await this.#receiveDeadLetters();
    const moved: string[] = [];
    try {
      for (const message of messages) {
        if (!wanted.has(message.MessageId ?? '')) continue;
        const job = parseDeployJob(message.Body ?? '');
        await this.#sqs.send(
          new SendMessageCommand({
            QueueUrl: this.#resources.deployQueueUrl,
            MessageBody: message.Body,
            MessageGroupId:
              message.Attributes?.MessageGroupId ?? (job === undefined ? 'unknown' : jobGroup(job)),
            MessageDeduplicationId: `redrive-${randomUUID()}`,
          }),
        );
        await this.#sqs.send(
          new DeleteMessageCommand({
            QueueUrl: this.#resources.deadLetterQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
        moved.push(message.MessageId ?? '');
      }
    } finally {
      await this.#showAgain(messages.filter((m) => !moved.includes(m.MessageId ?? '')));
    }
    return moved;
  }

  suspend(key: PartKey, suspension: Suspension | null): Promise<void> {
    return this.#store.setSuspended(key, suspension);
  }

  /** The dead letters, each received once (hidden meanwhile), in the order SQS hands them out. */
  async #receiveDeadLetters(): Promise<Message[]> {
    const seen = new Map<string, Message>();
    for (let round = 0; round < MAX_RECEIVES; round++) {
      const { Messages = [] } = await this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#resources.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          // Long polling asks every SQS server: an empty answer means an empty queue.
          WaitTimeSeconds: 1,
          VisibilityTimeout: LOOK_SECONDS,
          MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) seen.set(message.MessageId ?? '', message);
    }
    return [...seen.values()];
  }

  /** Makes messages looked at visible again at once. */
  async #showAgain(messages: readonly Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      await this.#sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#resources.deadLetterQueueUrl,
          Entries: messages.slice(start, start + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }

  /** A dead letter with its attempts, last error and time, as the worker recorded its transient attempts. */
  async #describe(message: Message): Promise<DeadLetterStatus> {
    const job = parseDeployJob(message.Body ?? '');
    const attempts =
      job === undefined
        ? []
        : (await this.#store.listDeployments(job, HISTORY_SEARCHED)).filter((r) => r.jobId === job.id);
    const last = attempts[0];
    const sent = Number(message.Attributes?.SentTimestamp);
    return {
      id: message.MessageId ?? '',
      group: message.Attributes?.MessageGroupId ?? (job === undefined ? 'unknown' : jobGroup(job)),
      commit: job?.commit,
      ref: job?.ref,
      trigger: job?.trigger.kind,
      // This look counts as a receive.
      attempts: attempts.length || Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
      lastError: last?.message ?? (job === undefined ? 'the message is not a deploy job' : undefined),
      failedAt: last?.finishedAt ?? (Number.isFinite(sent) ? new Date(sent).toISOString() : undefined),
    };
  }
}
