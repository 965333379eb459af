// Observability: alarms on failed deployments, parts OutOfSync for too long, dead-letter queues, function errors
// and throttles and a stuck deploy queue, and one dashboard with deliveries, deployments by result and by app
// environment, deploy duration, objects applied and pruned, parts OutOfSync, failed checks and feedback, queue
// age and every alarm.
import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../functions/names.ts';

const PERIOD = Duration.minutes(5);

export interface NamedFunction {
  /** A short name for alarm ids and labels, e.g. `Worker`. */
  readonly name: string;
  readonly function: IFunction;
}

export interface NamedQueue {
  readonly name: string;
  readonly queue: IQueue;
}

export interface ObservabilityProps {
  readonly api: HttpApi;
  readonly webhook: IFunction;
  readonly functions: readonly NamedFunction[];
  /** Queues whose backlog age the dashboard shows: the deploy and check queues. */
  readonly queues: readonly NamedQueue[];
  readonly deadLetterQueues: readonly NamedQueue[];
  /** The deploy queue, alarmed when its oldest job waits longer than `stuckAfter`. */
  readonly deployQueue: IQueue;
  readonly stuckAfter: Duration;
  /**
   * The alarm on parts OutOfSync fires when a part has been OutOfSync this long. At least twice the reconcile
   * interval (the configuration says so): the alarm's period, half of it, then holds a check of every part.
   */
  readonly outOfSyncAfter: Duration;
  /** Where alarms notify; none: alarms only show on the dashboard and in the console. */
  readonly alarmTopic?: ITopic;
}

/** The dimensions the worker and the reconciler publish their metrics with (Powertools adds `service`). */
const M = METRICS;
const deploymentSchema = `SCHEMA("${M.namespace}", ${M.appDimension}, ${M.environmentDimension}, ${M.resultDimension}, ${M.serviceDimension})`;
const environmentSchema = `SCHEMA("${M.namespace}", ${M.appDimension}, ${M.environmentDimension}, ${M.serviceDimension})`;
const serviceSchema = `SCHEMA("${M.namespace}", ${M.serviceDimension})`;

/** Metrics Insights queries of Ferry's own metrics, for the alarms and the dashboard. */
export const QUERIES = {
  /** Failed deployments (rejected or misconfigured; transient attempts are retried), per app environment. */
  failedDeployments: `SELECT SUM(${M.deployments}) FROM ${deploymentSchema} WHERE ${M.resultDimension} = 'failed' GROUP BY ${M.appDimension}, ${M.environmentDimension}`,
  deploymentsByResult: `SELECT SUM(${M.deployments}) FROM ${deploymentSchema} GROUP BY ${M.resultDimension}`,
  /** Checks that found a part OutOfSync: with a check of each part per period, the parts OutOfSync. */
  outOfSyncChecks: `SELECT SUM(${M.outOfSync}) FROM ${serviceSchema}`,
  /** The longest any part checked in the period had been OutOfSync, in seconds. */
  longestOutOfSync: `SELECT MAX(${M.longestOutOfSync}) FROM ${serviceSchema}`,
  averageDuration: `SELECT AVG(${M.deployDuration}) FROM ${environmentSchema}`,
  longestDuration: `SELECT MAX(${M.deployDuration}) FROM ${environmentSchema}`,
  objectsApplied: `SELECT SUM(${M.objectsApplied}) FROM ${environmentSchema}`,
  objectsPruned: `SELECT SUM(${M.objectsPruned}) FROM ${environmentSchema}`,
  checksFailed: `SELECT SUM(${M.checksFailed}) FROM ${environmentSchema} GROUP BY ${M.appDimension}, ${M.environmentDimension}`,
  statusPostsFailed: `SELECT SUM(${M.statusPostsFailed}) FROM ${serviceSchema}`,
  notificationsFailed: `SELECT SUM(${M.notificationsFailed}) FROM SCHEMA("${M.namespace}", ${M.notifierDimension}, ${M.serviceDimension}) GROUP BY ${M.notifierDimension}`,
} as const;

const insights = (expression: string, label: string, period = PERIOD): IMetric =>
  new MathExpression({ expression, label, period, usingMetrics: {} });

export class Observability extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  /** Fires for each app environment with a failed deployment in the last five minutes. */
  readonly failedDeploymentsAlarm: Alarm;
  /** Fires while a part has been OutOfSync for `outOfSyncAfter` or longer. */
  readonly outOfSyncAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const ferry = this.#addFerryAlarms(props);
    this.failedDeploymentsAlarm = ferry.failed;
    this.outOfSyncAlarm = ferry.outOfSync;
    this.#addAlarms(props);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.days(1),
    });
    this.#addWidgets(props);
  }

  #alarm(
    props: ObservabilityProps,
    alarmId: string,
    description: string,
    metric: IMetric,
    threshold = 1,
  ): Alarm {
    const created = new Alarm(this, alarmId, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic !== undefined) {
      created.addAlarmAction(new SnsAction(props.alarmTopic));
      created.addOkAction(new SnsAction(props.alarmTopic));
    }
    this.alarms.push(created);
    return created;
  }

  /**
   * What Ferry did: deployments that failed (one contributor per app environment), parts left OutOfSync (one
   * series whatever the number of parts: a series per part would cost more than the rest of Ferry).
   */
  #addFerryAlarms(props: ObservabilityProps): { failed: Alarm; outOfSync: Alarm } {
    const failed = this.#alarm(
      props,
      'DeploymentsFailed',
      'Ferry: a deployment failed (rejected by the cluster or misconfigured); the alarm names each app/environment. ' +
        "Look at the part's last deployment.",
      insights(QUERIES.failedDeployments, 'Failed deployments'),
    );
    const minutes = props.outOfSyncAfter.toMinutes();
    const outOfSync = this.#alarm(
      props,
      'PartsOutOfSync',
      `Ferry: a part has been OutOfSync for ${minutes} minutes or more (a new commit not deployed, or drift ` +
        "not healed). `ferry status` and the status page name it, and the reconciler's 'environment checked' " +
        'log lines with an outOfSyncSince.',
      insights(QUERIES.longestOutOfSync, 'Longest OutOfSync (s)', Duration.minutes(Math.floor(minutes / 2))),
      props.outOfSyncAfter.toSeconds(),
    );
    return { failed, outOfSync };
  }

  #addAlarms(props: ObservabilityProps): void {
    for (const { name, queue } of props.deadLetterQueues) {
      this.#alarm(
        props,
        `${name}Depth`,
        `Ferry: messages in the ${name} dead-letter queue; they failed every attempt. Look at the logs, fix, redrive.`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM }),
      );
    }
    for (const { name, function: fn } of props.functions) {
      this.#alarm(
        props,
        `${name}Errors`,
        `Ferry: the ${name} function failed (an error or a timeout).`,
        fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
      );
      this.#alarm(
        props,
        `${name}Throttles`,
        `Ferry: the ${name} function was throttled (account or reserved concurrency).`,
        fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
      );
    }
    this.#alarm(
      props,
      'DeployQueueStuck',
      'Ferry: a deploy job has waited longer than two whole worker runs; an environment may be stuck.',
      props.deployQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: Stats.MAXIMUM }),
      props.stuckAfter.toSeconds(),
    );
  }

  #addWidgets(props: ObservabilityProps): void {
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Webhook deliveries',
        left: [
          props.webhook.metricInvocations({ period: PERIOD, statistic: Stats.SUM, label: 'Deliveries' }),
          props.api.metricClientError({ period: PERIOD, statistic: Stats.SUM, label: '4xx' }),
          props.api.metricServerError({ period: PERIOD, statistic: Stats.SUM, label: '5xx' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Deployments by result',
        left: [insights(QUERIES.deploymentsByResult, '')],
        width: 12,
      }),
    );
    this.#addFerryWidgets();
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue age (oldest message, seconds)',
        left: props.queues.map(({ name, queue }) =>
          queue.metricApproximateAgeOfOldestMessage({
            period: PERIOD,
            statistic: Stats.MAXIMUM,
            label: name,
          }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queues',
        left: props.deadLetterQueues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: Stats.MAXIMUM,
            label: name,
          }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function errors and throttles',
        left: props.functions.flatMap(({ name, function: fn }) => [
          fn.metricErrors({ period: PERIOD, statistic: Stats.SUM, label: `${name} errors` }),
          fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM, label: `${name} throttles` }),
        ]),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }

  /** What Ferry did, from the worker's and the reconciler's metrics. */
  #addFerryWidgets(): void {
    const graph = (title: string, left: IMetric[]) => new GraphWidget({ title, left, width: 12 });
    this.dashboard.addWidgets(
      graph('Failed deployments by app/environment', [insights(QUERIES.failedDeployments, '')]),
      new GraphWidget({
        title: 'Parts OutOfSync (checks that found one; the longest OutOfSync, seconds, right)',
        left: [insights(QUERIES.outOfSyncChecks, 'checks')],
        right: [insights(QUERIES.longestOutOfSync, 'longest (s)')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      graph('Deploy duration (ms)', [
        insights(QUERIES.averageDuration, 'average'),
        insights(QUERIES.longestDuration, 'longest'),
      ]),
      graph('Objects applied and pruned', [
        insights(QUERIES.objectsApplied, 'applied'),
        insights(QUERIES.objectsPruned, 'pruned'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Failed checks by app/environment', [insights(QUERIES.checksFailed, '')]),
      graph('Commit statuses and notifications that failed', [
        insights(QUERIES.statusPostsFailed, 'status posts'),
        insights(QUERIES.notificationsFailed, ''),
      ]),
    );
  }
}
