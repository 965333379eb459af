// The one stack a user deploys: intake, deploy pipeline, state, schedule, cluster access and observability.
import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { Config } from '../functions/core/config.ts';
import { ENV, STACK } from '../functions/names.ts';
import { ClusterAccess } from './cluster-access.ts';
import { DeployPipeline } from './deploy-pipeline.ts';
import {
  assertDeployable,
  eksClusters,
  notificationSecretNames,
  repositoryTokenSecretNames,
  webhookSecretNames,
} from './deployment-config.ts';
import type { FunctionDefaults } from './ferry-function.ts';
import { Intake } from './intake.ts';
import { Notifications } from './notifications.ts';
import { Observability } from './observability.ts';
import { Schedule } from './schedule.ts';
import { State } from './state.ts';

export interface FerryStackProps extends StackProps {
  /** The validated configuration (see `loadDeploymentConfig`). */
  readonly config: Config;
  /** Active X-Ray tracing on every function. Default: off. */
  readonly tracing?: boolean;
  /** Retention of the functions' and the API's logs. Default: one month. */
  readonly logRetention?: RetentionDays;
  /** ARN of an SNS topic that alarms notify (and tell when they are OK again). Default: none. */
  readonly alarmTopicArn?: string;
  /** ARN of the SNS topic that notifications go to. Default: a topic the stack creates. */
  readonly notificationTopicArn?: string;
}

export class FerryStack extends Stack {
  readonly state: State;
  readonly deployPipeline: DeployPipeline;
  readonly intake: Intake;
  readonly schedule: Schedule;
  readonly clusterAccess: ClusterAccess;
  readonly observability: Observability;
  readonly notifications: Notifications;

  constructor(scope: Construct, id: string, props: FerryStackProps) {
    super(scope, id, {
      description: 'Ferry: serverless GitOps deployer for Amazon EKS',
      ...props,
    });
    const { config } = props;
    // Also when a caller skips loadDeploymentConfig: a kubeconfig cluster cannot be reached from Lambda.
    assertDeployable(config);

    const defaults: FunctionDefaults = {
      config,
      tracing: props.tracing ?? false,
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    };

    this.state = new State(this, 'State');
    this.deployPipeline = new DeployPipeline(this, 'DeployPipeline', { defaults, state: this.state });
    this.intake = new Intake(this, 'Intake', {
      defaults,
      state: this.state,
      deployQueue: this.deployPipeline.queue,
    });
    this.schedule = new Schedule(this, 'Schedule', {
      defaults,
      state: this.state,
      deployQueue: this.deployPipeline.queue,
      kubectlLayer: this.deployPipeline.kubectlLayer,
    });
    // The worker applies and the reconciler dry-runs; the scheduler and the webhook never reach a cluster.
    this.clusterAccess = new ClusterAccess(this, 'ClusterAccess', {
      clusters: eksClusters(config),
      principals: [
        { id: 'Worker', role: this.deployPipeline.worker.role },
        { id: 'Reconciler', role: this.schedule.reconciler.role },
      ],
    });

    // Commit statuses link to the worker's log events of their deployment.
    for (const fn of [this.intake.webhook, this.deployPipeline.worker, this.schedule.reconciler]) {
      fn.function.addEnvironment(ENV.workerLogGroup, this.deployPipeline.worker.logGroup.logGroupName);
    }
    this.notifications = new Notifications(this, 'Notifications', {
      config,
      publishers: [this.deployPipeline.worker, this.schedule.reconciler],
      ...(props.notificationTopicArn === undefined ? {} : { topicArn: props.notificationTopicArn }),
    });

    const functions = [
      { name: 'Webhook', function: this.intake.webhook.function },
      { name: 'Worker', function: this.deployPipeline.worker.function },
      { name: 'Scheduler', function: this.schedule.scheduler.function },
      { name: 'Reconciler', function: this.schedule.reconciler.function },
    ];
    this.observability = new Observability(this, 'Observability', {
      api: this.intake.api,
      webhook: this.intake.webhook.function,
      functions,
      queues: [
        { name: 'Deploy queue', queue: this.deployPipeline.queue },
        { name: 'Check queue', queue: this.schedule.checkQueue },
      ],
      deadLetterQueues: [
        { name: 'DeployDeadLetterQueue', queue: this.deployPipeline.deadLetterQueue },
        { name: 'CheckDeadLetterQueue', queue: this.schedule.checkDeadLetterQueue },
      ],
      deployQueue: this.deployPipeline.queue,
      // Longer than two whole worker runs: more than a job queued behind another in its environment.
      stuckAfter: Duration.seconds(this.deployPipeline.workerTimeout.toSeconds() * 2),
      outOfSyncAfter: Duration.minutes(config.notifications.outOfSyncAlarmMinutes),
      ...(props.alarmTopicArn === undefined
        ? {}
        : { alarmTopic: Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }),
    });

    new CfnOutput(this, 'WebhookUrl', {
      description: "Paste into each repository's webhook settings (GitHub, GitLab, Gitea), content type JSON",
      value: this.intake.webhookUrl,
    });
    new CfnOutput(this, 'WebhookSecretNames', {
      description:
        "Secrets Manager secrets to create (same region) holding each repository's webhook secret; " +
        'the Git host gets the same value',
      value: webhookSecretNames(config).join(', '),
    });
    const tokens = repositoryTokenSecretNames(config);
    if (tokens.length > 0) {
      new CfnOutput(this, 'TokenSecretNames', {
        description:
          'Secrets Manager secrets to create holding a token that can read the repository or post commit statuses',
        value: tokens.join(', '),
      });
    }
    new CfnOutput(this, 'NotificationTopicArn', {
      description: "SNS topic of the parts' changes of state (failed, OutOfSync, recovered): subscribe to it",
      value: this.notifications.topic.topicArn,
    });
    const notificationSecrets = notificationSecretNames(config);
    if (notificationSecrets.length > 0) {
      new CfnOutput(this, 'NotificationSecretNames', {
        description: 'Secrets Manager secrets to create: Slack webhook URLs and JSON webhook signing keys',
        value: notificationSecrets.join(', '),
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      description: 'CloudWatch dashboard: deliveries, deployments, durations, queues, alarms',
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.observability.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'WorkerRoleArn', {
      description: 'Role that applies to the clusters (has an EKS access entry on each)',
      value: this.deployPipeline.worker.role.roleArn,
    });
    new CfnOutput(this, 'ReconcilerRoleArn', {
      description: 'Role that dry-runs against the clusters to find drift (has an EKS access entry on each)',
      value: this.schedule.reconciler.role.roleArn,
    });
    this.operatorOutputs(config);
  }

  /** What `ferry … --stack` reads with the caller's credentials: the table, the queues and the configuration. */
  private operatorOutputs(config: Config): void {
    new CfnOutput(this, STACK.deadLetterQueueOutput, {
      description: 'Deploy jobs that failed every attempt; `ferry redrive --stack` puts them back once fixed',
      value: this.deployPipeline.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, STACK.tableOutput, {
      description: 'DynamoDB table of the parts, their history, checks and locks',
      value: this.state.table.tableName,
    });
    new CfnOutput(this, STACK.deployQueueOutput, {
      description: 'SQS FIFO queue of deploy jobs (one message group per part)',
      value: this.deployPipeline.queue.queueUrl,
    });
    this.templateOptions.metadata = { ...this.templateOptions.metadata, [STACK.configMetadata]: config };
  }
}
