// The worker Lambda's real handler driven over moto's SQS, as Lambda's event source mapping drives it: messages
// received with their attributes (the receive count included), shaped as an SQSEvent, handed to the handler, and
// deleted unless the handler lists them in `batchItemFailures`. A failed message stays invisible for the
// backoff the handler set with ChangeMessageVisibility, and SQS's own redrive moves it to the dead-letter queue
// after the queue's receive limit.
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../../functions/core/config.ts';
import { DEPLOY_MAX_RECEIVE_COUNT, ENV, WORKER_BATCH_SIZE } from '../../functions/names.ts';
import { handler } from '../../functions/worker/handler.ts';
import { uniqueName } from './testbed.ts';

const sqs = new SQSClient({});

/** What the worker function runs with: its configuration and state table (the queue is the one drained). */
export interface WorkerEnvironment {
  readonly config: Config;
  readonly table: string;
}

export interface DrainOptions {
  /** Handler invocations at once, each with a batch of its own (Lambda scales out over message groups). */
  readonly concurrency?: number;
  /** Messages per invocation (default: the stack's batch size). */
  readonly batchSize?: number;
  /** How long a received message stays invisible unless the handler changes it (the queue's visibility). */
  readonly visibilityTimeoutSeconds?: number;
  /** What the handler's context says is left of the function's time, at each invocation. */
  readonly remainingTimeMs?: number;
  /** Keep draining at least until this settles (jobs still being sent), even while the queue is empty. */
  readonly until?: Promise<unknown>;
  /** Bound on receive calls, over all pollers. */
  readonly maxRounds?: number;
  /** Bound on the whole drain. */
  readonly timeoutMs?: number;
  /** Called with each invocation's records and answer, before its messages are deleted. */
  readonly onBatch?: (records: readonly SQSRecord[], response: SQSBatchResponse) => void;
}

export interface DrainReport {
  /** The queue was empty, in flight included, when the drain stopped (rather than a bound stopping it). */
  readonly drained: boolean;
  readonly rounds: number;
  readonly invocations: number;
  /** Records handed to the handler, redeliveries counted each time. */
  readonly received: number;
  /** Records the handler listed as failed (left on the queue). */
  readonly failed: number;
  readonly deleted: number;
  /** Times each message was received, by message id. */
  readonly receives: ReadonlyMap<string, number>;
  /** Invocations that threw instead of answering (the whole batch returns to the queue). */
  readonly errors: readonly unknown[];
  /**
   * Messages received while an invocation of their FIFO group was still running: SQS never does this, so any
   * here mean the queue, not the worker, broke the group's order.
   */
  readonly groupOverlaps: readonly string[];
  readonly durationMs: number;
}

let runtimeEnvironment: string | undefined;

/**
 * Sets the variables the functions' runtimes read (the webhook's too: the same three). A runtime is built on a
 * handler's first invocation and kept for the process's life (a warm container), so every invocation in one
 * process must name the same configuration, table and queue: a different one is refused here rather than
 * silently ignored.
 */
export function useWorkerEnvironment(queueUrl: string, environment: WorkerEnvironment): void {
  const variables = {
    [ENV.configJson]: JSON.stringify(environment.config),
    [ENV.tableName]: environment.table,
    [ENV.deployQueueUrl]: queueUrl,
  };
  const key = JSON.stringify(variables);
  if (runtimeEnvironment !== undefined && runtimeEnvironment !== key) {
    throw new Error(
      'the worker runtime of this process was built for another configuration, table or queue: ' +
        'run every worker invocation of a test file with one environment',
    );
  }
  runtimeEnvironment = key;
  Object.assign(process.env, variables);
}

/** A Lambda context whose remaining time is fixed. */
export function workerContext(remainingTimeMs = 300_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ferry-worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ferry-worker',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/ferry-worker',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingTimeMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Received messages as the event source mapping hands them to the function. */
export function sqsEvent(queueUrl: string, messages: readonly Message[]): SQSEvent {
  const name = new URL(queueUrl).pathname.split('/').pop() ?? 'deploy.fifo';
  return {
    Records: messages.map((m) => {
      const a = m.Attributes ?? {};
      return {
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
          SentTimestamp: a.SentTimestamp ?? '0',
          SenderId: a.SenderId ?? '',
          ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '0',
          ...(a.MessageGroupId === undefined ? {} : { MessageGroupId: a.MessageGroupId }),
          ...(a.MessageDeduplicationId === undefined
            ? {}
            : { MessageDeduplicationId: a.MessageDeduplicationId }),
          ...(a.SequenceNumber === undefined ? {} : { SequenceNumber: a.SequenceNumber }),
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${name}`,
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/**
 * Messages that were never on a queue, each a body with its message group (none for a standard queue), as the
 * event source mapping would hand them over on a first receive.
 */
export function messagesEvent(
  queueUrl: string,
  messages: readonly (readonly [body: string, group?: string])[],
): SQSEvent {
  const now = String(Date.now());
  return sqsEvent(
    queueUrl,
    messages.map(([body, group], i) => ({
      MessageId: `m-${i}`,
      ReceiptHandle: `r-${i}`,
      Body: body,
      Attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'tests',
        ApproximateFirstReceiveTimestamp: now,
        ...(group === undefined
          ? {}
          : { MessageGroupId: group, MessageDeduplicationId: `d-${i}`, SequenceNumber: String(i) }),
      },
    })),
  );
}

/** One receive: up to `max` messages, with every system attribute, long-polling up to `waitSeconds`. */
export async function receiveMessages(
  queueUrl: string,
  options: {
    readonly max?: number;
    readonly waitSeconds?: number;
    readonly visibilityTimeoutSeconds?: number;
  },
): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.max ?? WORKER_BATCH_SIZE,
      WaitTimeSeconds: options.waitSeconds ?? 0,
      VisibilityTimeout: options.visibilityTimeoutSeconds ?? 120,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/** Runs the real handler on one event, with the worker's environment set. */
export function invokeWorker(
  queueUrl: string,
  environment: WorkerEnvironment,
  event: SQSEvent,
  remainingTimeMs?: number,
): Promise<SQSBatchResponse> {
  useWorkerEnvironment(queueUrl, environment);
  return handler(event, workerContext(remainingTimeMs));
}

export async function deleteMessage(queueUrl: string, receiptHandle: string): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
}

/** Messages on the queue: visible, in flight (received or backing off) and delayed. */
export async function queueDepth(
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/**
 * A FIFO deploy queue with a FIFO dead-letter queue, shaped as the stack creates them: SQS moves a message that
 * was received `maxReceiveCount` times without being deleted.
 */
export async function createDeployQueueWithDeadLetters(
  maxReceiveCount = DEPLOY_MAX_RECEIVE_COUNT,
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const name = uniqueName('ferry-deploy');
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  if (dlq.QueueUrl === undefined) throw new Error('moto returned no queue URL');
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes.QueueArn,
          maxReceiveCount: String(maxReceiveCount),
        }),
      },
    }),
  );
  if (queue.QueueUrl === undefined) throw new Error('moto returned no queue URL');
  return { queueUrl: queue.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl };
}

const settled = (promise: Promise<unknown> | undefined) => {
  if (promise === undefined) return () => true;
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return () => done;
};

/**
 * Receives and runs messages with the worker's handler until the queue, its in-flight messages included, is
 * empty (and `until` has settled), or a bound (rounds, time) is reached. Messages the handler made invisible for
 * a backoff are waited for by long polling, never by fixed sleeps.
 */
export async function drainWithWorker(
  queueUrl: string,
  environment: WorkerEnvironment,
  options: DrainOptions = {},
): Promise<DrainReport> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 180_000);
  const maxRounds = options.maxRounds ?? 2_000;
  const producersDone = settled(options.until);
  const receives = new Map<string, number>();
  const errors: unknown[] = [];
  const groupOverlaps: string[] = [];
  const running = new Map<string, number>();
  // moto answers concurrent receives from several threads without a lock, and may then hand out two messages
  // of one FIFO group at once; SQS does not. Receives take turns, so the group rule holds as in SQS; the
  // invocations themselves run in parallel.
  let turn: Promise<unknown> = Promise.resolve();
  const receiveInTurn = (request: Parameters<typeof receiveMessages>[1]) => {
    const next = turn.then(() => receiveMessages(queueUrl, request));
    turn = next.catch(() => undefined);
    return next;
  };
  let rounds = 0;
  let invocations = 0;
  let received = 0;
  let failed = 0;
  let deleted = 0;
  let drained = false;

  const poller = async () => {
    while (!drained && rounds < maxRounds && Date.now() < deadline) {
      rounds++;
      const messages = await receiveInTurn({
        max: options.batchSize ?? WORKER_BATCH_SIZE,
        waitSeconds: 1,
        ...(options.visibilityTimeoutSeconds === undefined
          ? {}
          : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
      });
      if (messages.length === 0) {
        if (!producersDone()) continue;
        const depth = await queueDepth(queueUrl);
        // Visible messages may belong to a group another poller holds; in-flight ones come back after their backoff.
        if (depth.visible + depth.inFlight + depth.delayed === 0 && producersDone()) drained = true;
        continue;
      }
      const groups = messages.map((m) => m.Attributes?.MessageGroupId ?? '');
      for (const [i, m] of messages.entries()) {
        receives.set(m.MessageId ?? '', (receives.get(m.MessageId ?? '') ?? 0) + 1);
        const group = groups[i] ?? '';
        if ((running.get(group) ?? 0) > 0 && !groups.slice(0, i).includes(group)) groupOverlaps.push(group);
      }
      for (const group of new Set(groups)) running.set(group, (running.get(group) ?? 0) + 1);
      received += messages.length;
      invocations++;
      const event = sqsEvent(queueUrl, messages);
      let response: SQSBatchResponse;
      try {
        response = await invokeWorker(queueUrl, environment, event, options.remainingTimeMs);
      } catch (error) {
        // Lambda returns the whole batch to the queue; its messages come back after their visibility timeout.
        errors.push(error);
        failed += messages.length;
        continue;
      } finally {
        for (const group of new Set(groups)) running.set(group, (running.get(group) ?? 1) - 1);
      }
      options.onBatch?.(event.Records, response);
      const failures = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      failed += failures.size;
      for (const record of event.Records) {
        if (failures.has(record.messageId)) continue;
        await deleteMessage(queueUrl, record.receiptHandle);
        deleted++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, poller));
  return {
    drained,
    rounds,
    invocations,
    received,
    failed,
    deleted,
    receives,
    errors,
    groupOverlaps,
    durationMs: Date.now() - started,
  };
}
