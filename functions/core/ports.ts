// The small interfaces through which the core reaches the world. Adapters implement them: AWS ones for the
// Lambda functions, local ones for `npm start`.
import type { DeployJob } from './jobs.ts';

export interface QueuedJob {
  readonly job: DeployJob;
  /** Equal ids within the queue's deduplication window are delivered once. */
  readonly deduplicationId: string;
}

/** The deploy queue: FIFO per environment (see `jobGroup`), deduplicated. */
export interface JobQueue {
  enqueue(jobs: readonly QueuedJob[]): Promise<void>;
}

/** Remembers webhook deliveries so that a redelivery, even hours later, is acknowledged and not enqueued twice. */
export interface DeliveryLog {
  /** Whether the delivery was recorded and its record has not expired yet. */
  seen(deliveryKey: string): Promise<boolean>;
  /** Records the delivery; resolves false when it was recorded before. */
  remember(deliveryKey: string, retainForSeconds: number): Promise<boolean>;
}

/** Secret values by name (Secrets Manager in AWS), cached by the adapter. */
export interface SecretSource {
  getSecret(name: string): Promise<string>;
}
