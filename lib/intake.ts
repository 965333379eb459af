// Intake: the HTTP API that Git hosts call, and the webhook function behind it.

import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../functions/names.ts';
import { statusTokenSecretNames, webhookSecretNames } from './deployment-config.ts';
import { FerryFunction, type FunctionDefaults } from './ferry-function.ts';
import { grantSecretValues } from './permissions.ts';
import type { State } from './state.ts';

export const WEBHOOK_PATH = '/webhook';

/**
 * Requests per second the stage admits, and the burst above it: far above what Git hosts send, so that only a
 * flood (and its Lambda bill) is cut off. A refused delivery (429) shows as failed in the Git host, which can
 * redeliver it, and the reconciler finds the commit at its next run anyway. Keep it high: GitLab disables a
 * hook that keeps getting 4xx answers.
 */
export const WEBHOOK_THROTTLE = { rateLimit: 20, burstLimit: 50 } as const;

export interface IntakeProps {
  readonly defaults: FunctionDefaults;
  readonly state: State;
  readonly deployQueue: IQueue;
}

export class Intake extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly webhook: FerryFunction;
  /** The URL to paste into the Git host's webhook settings. */
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.webhook = new FerryFunction(this, 'Webhook', {
      defaults: props.defaults,
      entry: 'functions/webhook/handler.ts',
      service: 'webhook',
      description: 'Ferry: verifies Git host webhooks, matches triggers and enqueues deploy jobs',
      // Pure JavaScript, no layer: Graviton is cheaper for the same work.
      architecture: Architecture.ARM_64,
      memorySize: 512,
      // GitHub gives up on an answer after 10 s; the API's integration would wait up to 30 s.
      timeout: Duration.seconds(10),
      environment: {
        [ENV.deployQueueUrl]: props.deployQueue.queueUrl,
        [ENV.tableName]: props.state.table.tableName,
      },
    });
    const role = this.webhook.role;
    // SendMessageBatch is authorised by sqs:SendMessage; the queue URL comes from the environment.
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deployQueue.queueArn] }),
    );
    props.state.grantDeliveryLog(role);
    // The webhook secrets to authenticate deliveries, the status tokens to mark queued commits pending.
    grantSecretValues(role, stack, [
      ...new Set([
        ...webhookSecretNames(props.defaults.config),
        ...statusTokenSecretNames(props.defaults.config),
      ]),
    ]);

    this.api = new HttpApi(this, 'Api', {
      description: 'Ferry webhooks from GitHub, GitLab and Gitea',
      // The stage below carries the throttling and access logs, which the default stage cannot.
      createDefaultStage: false,
    });
    const routes = this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Webhook', this.webhook.function),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.defaults.logRetention });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: WEBHOOK_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_PATH}`;

    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'Git hosts cannot sign requests with IAM, Cognito or JWT. The webhook function authenticates every ' +
          'delivery itself: the HMAC-SHA256 signature over the raw body (GitHub, Gitea, GitLab signing tokens) ' +
          "or the secret token (GitLab), checked in constant time against the repository's secret.",
      });
    }
  }
}
