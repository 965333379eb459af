import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS accepts at most ten messages a batch. */
const BATCH = 10;

type Message = Omit<SendMessageBatchRequestEntry, 'Id'>;

/**
 * Sends messages in batches of ten, `inFlight` batches at a time (one after another by default, so a FIFO queue
 * keeps their order), and fails when SQS refuses any of them.
 */
export async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
  inFlight = 1,
): Promise<void> {
  const batches: Message[][] = [];
  for (let start = 0; start < messages.length; start += BATCH)
    batches.push(messages.slice(start, start + BATCH));
  let next = 0;
  const sender = async (): Promise<void> => {
    for (let batch = batches[next++]; batch !== undefined; batch = batches[next++])
      await send(sqs, queueUrl, batch);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, batches.length) }, sender));
}

async function send(sqs: SQSClient, queueUrl: string, batch: readonly Message[]): Promise<void> {
  const entries = batch.map((message, i) => ({ ...message, Id: String(i) }));
  const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  const failed = result.Failed ?? [];
  if (failed.length > 0) {
    throw new Error(
      `SQS refused ${failed.length} message(s): ${failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
    );
  }
}
