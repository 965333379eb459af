// Observability: alarms on dead-letter queues, function errors and throttles, a stuck deploy queue, and one
// dashboard with deliveries, deployments by result, deploy duration and queue age.
import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  SearchExpression,
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
  /** Where alarms notify; none: alarms only show on the dashboard and in the console. */
  readonly alarmTopic?: ITopic;
}

/**
 * A search over the worker's metrics (Powertools): `Deployments` (count) and `DeployDuration` (milliseconds),
 * one line per value of the `result` dimension (succeeded, failed, current, skipped, duplicate). Powertools adds a
 * `service` dimension to every metric (whatever name the worker gives itself), and a search's metric schema
 * names the dimension set exactly: `{Ferry,result,service}`.
 */
export function workerSearch(
  metricName: (typeof METRICS)['deployments' | 'deployDuration'],
  stat: string,
  label: string,
): IMetric {
  return new SearchExpression({
    expression: `SEARCH('{${METRICS.namespace},${METRICS.resultDimension},service} MetricName="${metricName}"', '${stat}', ${PERIOD.toSeconds()})`,
    label,
    period: PERIOD,
  });
}

export class Observability extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.#addAlarms(props);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.days(1),
    });
    this.#addWidgets(props);
  }

  #addAlarms(props: ObservabilityProps): void {
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold = 1): Alarm => {
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
    };

    for (const { name, queue } of props.deadLetterQueues) {
      alarm(
        `${name}Depth`,
        `Ferry: messages in the ${name} dead-letter queue; they failed every attempt. Look at the logs, fix, redrive.`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM }),
      );
    }
    for (const { name, function: fn } of props.functions) {
      alarm(
        `${name}Errors`,
        `Ferry: the ${name} function failed (an error or a timeout).`,
        fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
      );
      alarm(
        `${name}Throttles`,
        `Ferry: the ${name} function was throttled (account or reserved concurrency).`,
        fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
      );
    }
    alarm(
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
        left: [workerSearch(METRICS.deployments, 'Sum', '')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Deploy duration',
        left: [
          workerSearch(METRICS.deployDuration, 'Average', 'average'),
          workerSearch(METRICS.deployDuration, 'p90', 'p90'),
        ],
        width: 12,
      }),
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
}
