import { SQSClient } from '@aws-sdk/client-sqs';
import type { EnvironmentCheck } from '../../core/model/check.ts';
import type { CheckQueue } from '../../core/ports.ts';
import { sendInBatches } from './sqs-batches.ts';

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;
/**
 * Batches sent at once: a standard queue keeps no order to protect, and a tick of thousands of parts would
 * otherwise spend its run waiting on one round trip after another.
 */
const BATCHES_IN_FLIGHT = 10;

/** The reconciler's check queue on a standard SQS queue; the jitter is each message's delay. */
export class SqsCheckQueue implements CheckQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(queueUrl: string, sqs = new SQSClient({})) {
    this.#queueUrl = queueUrl;
    this.#sqs = sqs;
  }

  enqueueChecks(checks: readonly { check: EnvironmentCheck; delaySeconds: number }[]): Promise<void> {
    return sendInBatches(
      this.#sqs,
      this.#queueUrl,
      checks.map(({ check, delaySeconds }) => ({
        MessageBody: JSON.stringify(check),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      })),
      BATCHES_IN_FLIGHT,
    );
  }
}
