import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type DeployJob, jobGroup } from '../../core/model/job.ts';
import type { JobQueue } from '../../core/ports.ts';
import { sendInBatches } from './sqs-batches.ts';

/**
 * The deploy queue on an SQS FIFO queue: one message group per part (a pull request's plans have one of their
 * own, `jobGroup`), deduplicated by job id.
 */
export class SqsJobQueue implements JobQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(queueUrl: string, sqs = new SQSClient({})) {
    this.#queueUrl = queueUrl;
    this.#sqs = sqs;
  }

  enqueue(jobs: readonly DeployJob[]): Promise<void> {
    return sendInBatches(
      this.#sqs,
      this.#queueUrl,
      jobs.map((job) => ({
        MessageBody: JSON.stringify(job),
        MessageGroupId: jobGroup(job),
        // SHA-256 hex: 64 characters of the 128 SQS allows.
        MessageDeduplicationId: job.id,
      })),
    );
  }

  /**
   * Makes a received message visible again after `seconds`: the backoff of a retried job. Its FIFO group waits
   * meanwhile, so the part's later jobs stay behind it.
   */
  async retryAfter(receiptHandle: string, seconds: number): Promise<void> {
    await this.#sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.#queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }
}
