// Deploy pipeline: the FIFO deploy queue (one message group per app environment), its FIFO dead-letter
// queue, and the worker that applies one job at a time, with kubectl and helm from a layer.
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config.ts';
import { DEPLOY_MAX_RECEIVE_COUNT, ENV, WORKER_BATCH_SIZE } from '../functions/names.ts';
import { maxHealthTimeoutSeconds, repositoryTokenSecretNames } from './deployment-config.ts';
import {
  FerryFunction,
  type FunctionDefaults,
  LAMBDA_MAX_TIMEOUT,
  type ProcessTuning,
} from './ferry-function.ts';
import { grantSecretValues } from './permissions.ts';
import type { State } from './state.ts';

/** Time for everything but the health wait: fetch the commit, render, dry-run, apply, prune, record. */
export const DEPLOY_WORK_SECONDS = 300;
/**
 * Workers at once. Each keeps at most 16 requests in flight to its cluster, so ten stay under kube-apiserver's
 * default of 200 mutating requests in flight even when every job targets one cluster; more jobs wait in the
 * queue, in order, instead of drawing 429s that count toward the dead-letter queue.
 */
export const WORKER_MAX_CONCURRENCY = 10;
/** Lambda's event source mapping wants the visibility timeout at least six times the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * The worker's process, sized for its peak resident memory (a 1,000-object first apply, bench/worker-memory):
 * a young generation of 2 MiB a semi-space instead of 16, and one malloc arena instead of one per thread, with
 * no measurable change in the job's time.
 */
export const WORKER_PROCESS: ProcessTuning = { semiSpaceMiB: 2, mallocArenas: 1 };
/**
 * The worker's timeout: the longest configured health wait plus the rest of a deployment, at least 10 minutes
 * and at most Lambda's 15. The schema caps `healthTimeoutSeconds` at 840 s so that a minute is left even then.
 * Not simply always 15 minutes: the visibility timeout is six times this, and a crashed worker leaves its
 * message, and so its environment's FIFO group, invisible for that long.
 */
export function workerTimeout(config: Config): Duration {
  const seconds = Math.min(
    LAMBDA_MAX_TIMEOUT.toSeconds(),
    Math.max(600, maxHealthTimeoutSeconds(config) + DEPLOY_WORK_SECONDS),
  );
  return Duration.seconds(seconds);
}

export interface DeployPipelineProps {
  readonly defaults: FunctionDefaults;
  readonly state: State;
}

export class DeployPipeline extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: FerryFunction;
  readonly workerTimeout: Duration;
  /** kubectl (with kustomize) and helm, static x86_64 binaries; the reconciler renders with them too. */
  readonly kubectlLayer: KubectlV34Layer;

  constructor(scope: Construct, id: string, props: DeployPipelineProps) {
    super(scope, id);
    const { config } = props.defaults;
    const timeout = workerTimeout(config);
    this.workerTimeout = timeout;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      // The longest SQS keeps a message: time to look at a failed job and redrive it.
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      // Producers set MessageDeduplicationId (the delivery or check id); the body alone is not identity.
      contentBasedDeduplication: false,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: DEPLOY_MAX_RECEIVE_COUNT },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.kubectlLayer = new KubectlV34Layer(this, 'KubectlLayer');

    this.worker = new FerryFunction(this, 'Worker', {
      defaults: props.defaults,
      entry: 'functions/worker/handler.ts',
      service: 'worker',
      description: 'Ferry: deploys one job: fetch, render, dry-run, apply, prune, wait healthy, record',
      // The layer's kubectl and helm are x86_64 binaries.
      architecture: Architecture.X86_64,
      // Rendering large Helm charts and holding many objects; memory also buys CPU on Lambda.
      memorySize: 2048,
      timeout,
      // The checkout, rendered manifests and helm's cache live in /tmp.
      ephemeralStorageSize: Size.mebibytes(2048),
      layers: [this.kubectlLayer],
      process: WORKER_PROCESS,
      environment: {
        [ENV.tableName]: props.state.table.tableName,
        // To set a failed job's retry delay (its message's visibility), which the event source allows.
        [ENV.deployQueueUrl]: this.queue.queueUrl,
      },
    });
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: WORKER_BATCH_SIZE,
        maxConcurrency: WORKER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    props.state.grantReadWrite(this.worker.role);
    grantSecretValues(this.worker.role, Stack.of(this), repositoryTokenSecretNames(config));
  }
}
