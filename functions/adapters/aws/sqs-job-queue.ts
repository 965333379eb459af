import { SQSClient } from '@aws-sdk/client-sqs';
import { jobGroup } from '../../core/jobs.ts';
import type { JobQueue, QueuedJob } from '../../core/ports.ts';
import { sendInBatches } from './sqs-batches.ts';

/** The deploy queue on an SQS FIFO queue: one message group per environment part, deduplicated by id. */
export class SqsJobQueue implements JobQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(queueUrl: string, sqs = new SQSClient({})) {
    this.#queueUrl = queueUrl;
    this.#sqs = sqs;
  }

  enqueue(jobs: readonly QueuedJob[]): Promise<void> {
    return sendInBatches(
      this.#sqs,
      this.#queueUrl,
      jobs.map(({ job, deduplicationId }) => ({
        MessageBody: JSON.stringify(job),
        MessageGroupId: jobGroup(job),
        // SQS allows 128 characters of [A-Za-z0-9] and punctuation; ids from Git hosts fit after hashing.
        MessageDeduplicationId: deduplicationId,
      })),
    );
  }
}
