import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS accepts at most ten messages a batch. */
const BATCH = 10;

/**
 * Sends messages in batches of ten, one batch after another (so a FIFO queue keeps their order), and fails
 * when SQS refuses any of them.
 */
export async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Omit<SendMessageBatchRequestEntry, 'Id'>[],
): Promise<void> {
  for (let start = 0; start < messages.length; start += BATCH) {
    const entries = messages.slice(start, start + BATCH).map((message, i) => ({ ...message, Id: String(i) }));
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    const failed = result.Failed ?? [];
    if (failed.length > 0) {
      throw new Error(
        `SQS refused ${failed.length} message(s): ${failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
      );
    }
  }
}
