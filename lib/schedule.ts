// Schedule: an EventBridge rule starts the scheduler, which puts one check per environment on the check
// queue; the reconciler takes the checks (new commits, drift) and enqueues deploy jobs where needed.
import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Schedule as EventSchedule, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../functions/names.ts';
import { VISIBILITY_TIMEOUT_FACTOR } from './deploy-pipeline.ts';
import { repositoryTokenSecretNames } from './deployment-config.ts';
import { FerryFunction, type FunctionDefaults } from './ferry-function.ts';
import { grantSecretValues } from './permissions.ts';
import type { State } from './state.ts';

/** One check: fetch the head, render, server-side dry-run against the cluster. */
export const RECONCILER_TIMEOUT = Duration.minutes(5);
/**
 * Checks per invocation, run side by side: they mostly wait on Git, the cluster and DynamoDB, so ten cost about
 * the time of one. Ten is what an SQS event source hands over without a batching window; failures come back one
 * by one (partial batch responses).
 */
export const RECONCILER_BATCH_SIZE = 10;
/**
 * The reconciler's memory. A batch of ten checks of 20-object parts peaked at 197 MB in a fresh process
 * (`bench/cost.bench.ts`); larger parts hold their inventory, desired state and live lists, and a revision too
 * large to keep is rendered again with helm or kustomize, so a batch has about five times that. Checks mostly
 * wait, so less memory (and CPU) costs little time.
 */
export const RECONCILER_MEMORY_MB = 1024;
/** Concurrent reconcilers at most, so that a schedule does not hit every Git host and cluster at once. */
export const RECONCILER_MAX_CONCURRENCY = 5;

export interface ScheduleProps {
  readonly defaults: FunctionDefaults;
  readonly state: State;
  readonly deployQueue: IQueue;
  /** kubectl and helm, to render what the reconciler compares with the cluster. */
  readonly kubectlLayer: ILayerVersion;
}

export class Schedule extends Construct {
  readonly rule: Rule;
  readonly scheduler: FerryFunction;
  readonly checkQueue: Queue;
  readonly checkDeadLetterQueue: Queue;
  readonly reconciler: FerryFunction;

  constructor(scope: Construct, id: string, props: ScheduleProps) {
    super(scope, id);
    const { config } = props.defaults;

    this.checkDeadLetterQueue = new Queue(this, 'CheckDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.checkQueue = new Queue(this, 'CheckQueue', {
      visibilityTimeout: Duration.seconds(RECONCILER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.checkDeadLetterQueue, maxReceiveCount: 3 },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.scheduler = new FerryFunction(this, 'Scheduler', {
      defaults: props.defaults,
      entry: 'functions/scheduler/handler.ts',
      service: 'scheduler',
      description: 'Ferry: puts one reconcile check per environment on the check queue',
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        [ENV.checkQueueUrl]: this.checkQueue.queueUrl,
      },
    });
    // The scheduler plans from the configuration and sends checks: no state, no secret, no cluster, no deploy queue.
    this.scheduler.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.checkQueue.queueArn] }),
    );

    this.rule = new Rule(this, 'Rule', {
      description: 'Ferry reconciliation schedule (settings.reconcileSchedule)',
      schedule: EventSchedule.expression(config.settings.reconcileSchedule),
      targets: [
        new LambdaFunction(this.scheduler.function, {
          retryAttempts: 2,
          // A run that could not start within the hour is superseded by the next ones.
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    this.reconciler = new FerryFunction(this, 'Reconciler', {
      defaults: props.defaults,
      entry: 'functions/reconciler/handler.ts',
      service: 'reconciler',
      description: 'Ferry: compares Git heads and live objects with the last applied revision',
      // Renders with the layer's kubectl and helm, like the worker: the published layer holds x86_64 binaries
      // only. arm64 (a fifth cheaper a GB-s) would take a layer of our own with the arm64 release binaries.
      architecture: Architecture.X86_64,
      memorySize: RECONCILER_MEMORY_MB,
      timeout: RECONCILER_TIMEOUT,
      ephemeralStorageSize: Size.mebibytes(2048),
      layers: [props.kubectlLayer],
      environment: {
        [ENV.tableName]: props.state.table.tableName,
        [ENV.deployQueueUrl]: props.deployQueue.queueUrl,
      },
    });
    this.reconciler.function.addEventSource(
      new SqsEventSource(this.checkQueue, {
        batchSize: RECONCILER_BATCH_SIZE,
        maxConcurrency: RECONCILER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    this.reconciler.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deployQueue.queueArn] }),
    );
    props.state.grantReadWrite(this.reconciler.role);
    grantSecretValues(this.reconciler.role, Stack.of(this), repositoryTokenSecretNames(config));
  }
}
