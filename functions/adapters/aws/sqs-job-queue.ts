import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { jobGroup } from '../../core/jobs.ts';
import type { JobQueue, QueuedJob } from '../../core/ports.ts';

/** SQS accepts at most ten messages a batch. */
const BATCH = 10;

/** The deploy queue on an SQS FIFO queue: one message group per environment part, deduplicated by id. */
export class SqsJobQueue implements JobQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(queueUrl: string, sqs = new SQSClient({})) {
    this.#queueUrl = queueUrl;
    this.#sqs = sqs;
  }

  async enqueue(jobs: readonly QueuedJob[]): Promise<void> {
    for (let start = 0; start < jobs.length; start += BATCH) {
      const entries: SendMessageBatchRequestEntry[] = jobs
        .slice(start, start + BATCH)
        .map(({ job, deduplicationId }, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(job),
          MessageGroupId: jobGroup(job),
          // SQS allows 128 characters of [A-Za-z0-9] and punctuation; ids from Git hosts fit after hashing.
          MessageDeduplicationId: deduplicationId,
        }));
      const result = await this.#sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }),
      );
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        throw new Error(
          `SQS refused ${failed.length} job(s): ${failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
        );
      }
    }
  }
}
