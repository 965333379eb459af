import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CheckQueue, EnvironmentCheck } from '../../core/ports.ts';

/** SQS accepts at most ten messages a batch, each delayed by at most 15 minutes. */
const BATCH = 10;
const MAX_DELAY_SECONDS = 900;

/** The reconciler's check queue on a standard SQS queue; the jitter is each message's delay. */
export class SqsCheckQueue implements CheckQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(queueUrl: string, sqs = new SQSClient({})) {
    this.#queueUrl = queueUrl;
    this.#sqs = sqs;
  }

  async enqueueChecks(checks: readonly { check: EnvironmentCheck; delaySeconds: number }[]): Promise<void> {
    const batches: (typeof checks)[] = [];
    for (let start = 0; start < checks.length; start += BATCH)
      batches.push(checks.slice(start, start + BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        const result = await this.#sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.#queueUrl,
            Entries: batch.map(({ check, delaySeconds }, i) => ({
              Id: String(i),
              MessageBody: JSON.stringify(check),
              DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
            })),
          }),
        );
        const failed = result.Failed ?? [];
        if (failed.length > 0) {
          throw new Error(
            `SQS refused ${failed.length} check(s): ${failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
          );
        }
      }),
    );
  }
}
