// FerryStack's synthesised template (bundling skipped): each resource and the properties that matter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { Config } from '../../functions/core/config.ts';
import { ConfigError, loadConfigFile } from '../../functions/core/config.ts';
import { loadDeploymentConfig } from '../../lib/deployment-config.ts';
import { FerryStack, type FerryStackProps } from '../../lib/ferry-stack.ts';

const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/config/${name}.yaml`, import.meta.url));

interface Synthesised {
  readonly config: Config;
  readonly stack: FerryStack;
  readonly template: Template;
  /** The template as JSON, for what `Template` has no matcher for. */
  readonly json: TemplateJson;
  readonly id: (construct: IConstruct) => string;
}

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> } & Record<string, unknown>>;
  Outputs: Record<string, { Value: unknown }>;
  Rules?: Record<string, { Assertions: { Assert: unknown; AssertDescription: string }[] }>;
}

async function synth(
  name: string,
  props: Partial<Omit<FerryStackProps, 'config'>> = {},
): Promise<Synthesised> {
  const config = await loadDeploymentConfig(fixture(name));
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new FerryStack(app, 'Ferry', { config, ...props });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => logicalId(stack, construct);
  return { config, stack, template, json: template.toJSON() as TemplateJson, id };
}

function logicalId(stack: Stack, construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return stack.getLogicalId(child as CfnElement);
}

const minimal = await synth('minimal');
const full = await synth('full');
const traced = await synth('minimal', {
  tracing: true,
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
});
const notifying = await synth('notifications');
const ownTopicArn = 'arn:aws:sns:eu-west-1:123456789012:ferry-events';
const ownTopic = await synth('notifications', { notificationTopicArn: ownTopicArn });

function resourcesOfType(s: Synthesised, type: string) {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
}

function resource(s: Synthesised, construct: IConstruct) {
  const found = s.json.Resources[s.id(construct)];
  assert.ok(found, `no resource for ${construct.node.path}`);
  return found;
}

const functionsOf = (s: Synthesised) => ({
  webhook: s.stack.intake.webhook,
  worker: s.stack.deployPipeline.worker,
  scheduler: s.stack.schedule.scheduler,
  reconciler: s.stack.schedule.reconciler,
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The statements of the policies attached to a role. */
function statementsOf(s: Synthesised, role: IConstruct): Statement[] {
  const roleId = logicalId(s.stack, role);
  return resourcesOfType(s, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

function actionsOfRole(s: Synthesised, role: IConstruct): string[] {
  return [...new Set(statementsOf(s, role).flatMap(actionsOf))].sort();
}

/** Resources of the statements that allow `action`, as JSON strings. */
function resourcesFor(s: Synthesised, role: IConstruct, action: string): string[] {
  return statementsOf(s, role)
    .filter((st) => actionsOf(st).includes(action))
    .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
    .map((r) => JSON.stringify(r));
}

const getAtt = (s: Synthesised, construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [s.id(construct), attribute],
});

/** A secret's ARN as `grantSecretValues` writes it, as a JSON string. */
const secretArn = (name: string) =>
  JSON.stringify({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':secretsmanager:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:secret:${name}-??????`,
      ],
    ],
  });

describe('state', () => {
  test('one DynamoDB table: pk/sk strings, TTL on expiresAt, on-demand, PITR, encrypted, retained', () => {
    minimal.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    minimal.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });
});

describe('deploy pipeline', () => {
  test('the deploy queue is FIFO, deduplicated by id, encrypted, with a FIFO dead-letter queue', () => {
    const { queue, deadLetterQueue } = minimal.stack.deployPipeline;
    const q = resource(minimal, queue).Properties;
    const dlq = resource(minimal, deadLetterQueue).Properties;
    assert.equal(q.FifoQueue, true);
    assert.equal(q.ContentBasedDeduplication, false);
    assert.equal(q.SqsManagedSseEnabled, true);
    assert.deepEqual(q.RedrivePolicy, {
      deadLetterTargetArn: getAtt(minimal, deadLetterQueue),
      maxReceiveCount: 3,
    });
    assert.equal(dlq.FifoQueue, true);
    assert.equal(dlq.SqsManagedSseEnabled, true);
    assert.equal(dlq.MessageRetentionPeriod, 14 * 24 * 3600);
  });

  test('every queue refuses requests without TLS', () => {
    const queues = resourcesOfType(minimal, 'AWS::SQS::Queue');
    assert.equal(queues.length, 4);
    for (const [queueId] of queues) {
      minimal.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  for (const s of [minimal, full]) {
    test(`the worker outlasts the longest health wait and the queue hides a job six times as long (${s === minimal ? 'minimal' : 'full'})`, () => {
      const worker = resource(s, s.stack.deployPipeline.worker.function).Properties;
      const queue = resource(s, s.stack.deployPipeline.queue).Properties;
      const longestHealthWait = Math.max(
        ...s.config.apps.flatMap((a) => a.environments.map((e) => e.healthTimeoutSeconds)),
      );
      const timeout = worker.Timeout as number;
      assert.ok(
        timeout >= longestHealthWait + 60,
        `timeout ${timeout} s vs health wait ${longestHealthWait} s`,
      );
      assert.ok(timeout <= 900);
      assert.ok((queue.VisibilityTimeout as number) >= 6 * timeout);
      assert.ok((queue.VisibilityTimeout as number) <= 12 * 3600);
    });
  }

  test('the longest health timeout gives the worker Lambda’s longest timeout', () => {
    assert.equal(resource(full, full.stack.deployPipeline.worker.function).Properties.Timeout, 900);
    assert.equal(resource(minimal, minimal.stack.deployPipeline.worker.function).Properties.Timeout, 600);
  });

  test('the worker: x86_64 with the kubectl/helm layer, memory and disk for a checkout, the deploy queue to retry', () => {
    const { worker, kubectlLayer } = minimal.stack.deployPipeline;
    const props = resource(minimal, worker.function).Properties;
    assert.deepEqual(props.Architectures, ['x86_64']);
    assert.ok((props.MemorySize as number) >= 2048);
    assert.ok(((props.EphemeralStorage as { Size: number }).Size as number) >= 2048);
    assert.deepEqual(props.Layers, [{ Ref: minimal.id(kubectlLayer) }]);
    const layer = resource(minimal, kubectlLayer).Properties;
    assert.match(String(layer.Description), /\/opt\/kubectl\/kubectl .*\/opt\/helm\/helm/);
    const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    // kubectl and helm get their homes in /tmp from the tools adapter, not from the function's environment.
    for (const name of ['HOME', 'HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME']) {
      assert.equal(name in env, false, name);
    }
    assert.deepEqual(env.FERRY_TABLE_NAME, { Ref: minimal.id(minimal.stack.state.table) });
    // Sized for its peak memory: a small young generation and one malloc arena, as bench/worker-memory runs it.
    assert.equal(env.NODE_OPTIONS, '--enable-source-maps --max-semi-space-size=2');
    assert.equal(env.MALLOC_ARENA_MAX, '1');
    const queue = minimal.stack.deployPipeline.queue;
    assert.deepEqual(
      env.FERRY_QUEUE_URL,
      { Ref: minimal.id(queue) },
      'a failed job backs off by its visibility',
    );
  });

  test('the worker takes the deploy queue one job at a time, ten workers at most, with partial batch responses', () => {
    const { worker, queue } = minimal.stack.deployPipeline;
    minimal.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(minimal, queue),
      FunctionName: { Ref: minimal.id(worker.function) },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // FIFO event sources take no batching window.
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });
});

describe('intake', () => {
  test('an HTTP API routes POST /webhook to the webhook function with payload format 2.0', () => {
    const { api, webhook } = minimal.stack.intake;
    minimal.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    minimal.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const routes = resourcesOfType(minimal, 'AWS::ApiGatewayV2::Route');
    assert.deepEqual(
      routes.map(([, r]) => r.Properties.RouteKey),
      ['POST /webhook'],
    );
    const target = JSON.stringify(routes[0]?.[1].Properties.Target);
    const [integrationId, integration] = resourcesOfType(minimal, 'AWS::ApiGatewayV2::Integration')[0] ?? [];
    assert.ok(integrationId && target.includes(integrationId));
    assert.equal(integration?.Properties.IntegrationType, 'AWS_PROXY');
    assert.equal(integration?.Properties.PayloadFormatVersion, '2.0');
    assert.deepEqual(integration?.Properties.IntegrationUri, getAtt(minimal, webhook.function));
    assert.deepEqual(integration?.Properties.ApiId, { Ref: minimal.id(api) });
  });

  test('the stage throttles and writes access logs', () => {
    minimal.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    const stage = resourcesOfType(minimal, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties;
    const settings = stage?.DefaultRouteSettings as {
      ThrottlingRateLimit: number;
      ThrottlingBurstLimit: number;
    };
    assert.ok(settings.ThrottlingRateLimit > 0 && settings.ThrottlingRateLimit <= 100);
    assert.ok(settings.ThrottlingBurstLimit >= settings.ThrottlingRateLimit);
  });

  test('the webhook function gets the deploy queue and the table, and answers within GitHub’s 10 s', () => {
    const props = resource(minimal, minimal.stack.intake.webhook.function).Properties;
    assert.ok((props.Timeout as number) <= 10);
    const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(env.FERRY_QUEUE_URL, { Ref: minimal.id(minimal.stack.deployPipeline.queue) });
    assert.deepEqual(env.FERRY_TABLE_NAME, { Ref: minimal.id(minimal.stack.state.table) });
  });

  test('outputs the webhook URL', () => {
    assert.deepEqual(minimal.json.Outputs.WebhookUrl?.Value, {
      'Fn::Join': ['', [getAtt(minimal, minimal.stack.intake.api, 'ApiEndpoint'), '/webhook']],
    });
  });
});

describe('schedule', () => {
  test('an EventBridge rule runs the scheduler at the configured rate', () => {
    for (const s of [minimal, full]) {
      s.template.resourceCountIs('AWS::Events::Rule', 1);
      s.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: s.config.settings.reconcileSchedule,
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: getAtt(s, s.stack.schedule.scheduler.function) })],
      });
    }
    assert.equal(full.config.settings.reconcileSchedule, 'rate(10 minutes)');
    assert.equal(minimal.config.settings.reconcileSchedule, 'rate(5 minutes)');
  });

  test('the scheduler fans out onto a standard check queue with its own dead-letter queue', () => {
    const { scheduler, checkQueue, checkDeadLetterQueue } = minimal.stack.schedule;
    const q = resource(minimal, checkQueue).Properties;
    assert.equal(q.FifoQueue, undefined);
    assert.deepEqual(q.RedrivePolicy, {
      deadLetterTargetArn: getAtt(minimal, checkDeadLetterQueue),
      maxReceiveCount: 3,
    });
    const env = (resource(minimal, scheduler.function).Properties.Environment as { Variables: object })
      .Variables;
    assert.deepEqual(env, {
      ...env,
      FERRY_CHECK_QUEUE_URL: { Ref: minimal.id(checkQueue) },
    });
    assert.equal('FERRY_TABLE_NAME' in env, false, 'the scheduler reads no state');
    assert.equal(resource(minimal, scheduler.function).Properties.Layers, undefined);
  });

  test('the reconciler takes ten checks at a time with partial batch responses and renders with the layer', () => {
    const { reconciler, checkQueue } = minimal.stack.schedule;
    minimal.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(minimal, checkQueue),
      FunctionName: { Ref: minimal.id(reconciler.function) },
      BatchSize: Match.anyValue(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const mapping = resourcesOfType(minimal, 'AWS::Lambda::EventSourceMapping').find(
      ([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(getAtt(minimal, checkQueue)),
    );
    assert.equal(mapping?.[1].Properties.BatchSize, 10, 'the most SQS hands over without a batching window');
    assert.equal(mapping?.[1].Properties.MaximumBatchingWindowInSeconds, undefined);
    const props = resource(minimal, reconciler.function).Properties;
    assert.deepEqual(props.Architectures, ['x86_64']);
    assert.equal(props.MemorySize, 1024);
    assert.deepEqual(props.Layers, [{ Ref: minimal.id(minimal.stack.deployPipeline.kubectlLayer) }]);
    assert.ok(
      (resource(minimal, checkQueue).Properties.VisibilityTimeout as number) >= 6 * (props.Timeout as number),
    );
    const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(env.FERRY_QUEUE_URL, { Ref: minimal.id(minimal.stack.deployPipeline.queue) });
    assert.deepEqual(env.FERRY_TABLE_NAME, { Ref: minimal.id(minimal.stack.state.table) });
  });
});

describe('functions', () => {
  test('all four: NodejsFunction on nodejs24.x with source maps, a log group with retention, a role each', () => {
    const functions = resourcesOfType(minimal, 'AWS::Lambda::Function');
    assert.equal(functions.length, 4);
    const roles = new Set<string>();
    for (const fn of Object.values(functionsOf(minimal))) {
      const props = resource(minimal, fn.function).Properties;
      assert.equal(props.Runtime, 'nodejs24.x');
      assert.equal(props.Handler, 'index.handler');
      const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.match(String(env.NODE_OPTIONS), /^--enable-source-maps(?: |$)/);
      const logging = props.LoggingConfig as { LogGroup: unknown };
      assert.deepEqual(logging.LogGroup, { Ref: minimal.id(fn.logGroup) });
      assert.ok(Number(resource(minimal, fn.logGroup).Properties.RetentionInDays) > 0);
      assert.deepEqual(props.Role, getAtt(minimal, fn.role));
      roles.add(minimal.id(fn.role));
      assert.equal(resource(minimal, fn.role).Properties.ManagedPolicyArns, undefined);
      assert.equal(props.TracingConfig, undefined);
    }
    assert.equal(roles.size, 4);
  });

  test('X-Ray tracing is optional', () => {
    for (const fn of Object.values(functionsOf(traced))) {
      assert.deepEqual(resource(traced, fn.function).Properties.TracingConfig, { Mode: 'Active' });
    }
  });

  test('the webhook and the scheduler, with no layer to fit, run on arm64', () => {
    const fns = functionsOf(minimal);
    for (const fn of [fns.webhook, fns.scheduler]) {
      assert.deepEqual(resource(minimal, fn.function).Properties.Architectures, ['arm64']);
    }
  });
});

describe('IAM least privilege', () => {
  test('no policy allows a wildcard action, and only X-Ray (which has no resources) a wildcard resource', () => {
    for (const s of [minimal, full, traced]) {
      for (const [, policy] of resourcesOfType(s, 'AWS::IAM::Policy')) {
        for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
          const actions = actionsOf(statement);
          for (const action of actions) assert.ok(!action.includes('*'), `wildcard action ${action}`);
          if (JSON.stringify(statement.Resource).includes('"*"')) {
            assert.deepEqual([...actions].sort(), ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
          }
        }
      }
    }
  });

  test('each role has only the actions its function uses', () => {
    const fns = functionsOf(full);
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const consume = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];
    const read = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
    const write = [
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ];
    const sorted = (...lists: string[][]) => [...new Set(lists.flat())].sort();
    assert.deepEqual(
      actionsOfRole(full, fns.webhook.role),
      sorted(logs, [
        'sqs:SendMessage',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'secretsmanager:GetSecretValue',
      ]),
    );
    assert.deepEqual(actionsOfRole(full, fns.scheduler.role), sorted(logs, ['sqs:SendMessage']));
    assert.deepEqual(
      actionsOfRole(full, fns.worker.role),
      sorted(logs, consume, read, write, [
        'secretsmanager:GetSecretValue',
        'eks:DescribeCluster',
        'sns:Publish',
      ]),
    );
    assert.deepEqual(
      actionsOfRole(full, fns.reconciler.role),
      sorted(logs, consume, read, write, [
        'sqs:SendMessage',
        'secretsmanager:GetSecretValue',
        'eks:DescribeCluster',
        'sns:Publish',
      ]),
    );
  });

  test('queues: the webhook and reconciler send to the deploy queue, the scheduler to the check queue only', () => {
    const fns = functionsOf(full);
    const deploy = JSON.stringify(getAtt(full, full.stack.deployPipeline.queue));
    const check = JSON.stringify(getAtt(full, full.stack.schedule.checkQueue));
    assert.deepEqual(resourcesFor(full, fns.webhook.role, 'sqs:SendMessage'), [deploy]);
    assert.deepEqual(resourcesFor(full, fns.reconciler.role, 'sqs:SendMessage'), [deploy]);
    assert.deepEqual(resourcesFor(full, fns.scheduler.role, 'sqs:SendMessage'), [check]);
    assert.deepEqual(resourcesFor(full, fns.worker.role, 'sqs:ReceiveMessage'), [deploy]);
    assert.deepEqual(resourcesFor(full, fns.reconciler.role, 'sqs:ReceiveMessage'), [check]);
  });

  test('the webhook reads and writes delivery records only', () => {
    const statements = statementsOf(full, full.stack.intake.webhook.role).filter((st) =>
      actionsOf(st).some((a) => a.startsWith('dynamodb:')),
    );
    assert.deepEqual(statements, [
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: getAtt(full, full.stack.state.table),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY#*'] } },
      },
    ]);
  });

  test('data actions name the state table only', () => {
    const table = JSON.stringify(getAtt(full, full.stack.state.table));
    for (const fn of Object.values(functionsOf(full))) {
      for (const statement of statementsOf(full, fn.role)) {
        if (actionsOf(statement).some((a) => a.startsWith('dynamodb:'))) {
          assert.equal(JSON.stringify(statement.Resource), table);
        }
      }
    }
  });

  test('secrets by name: webhook and status secrets to the webhook, token secrets to the worker and reconciler', () => {
    const fns = functionsOf(full);
    // full.yaml: two repositories share ferry/shop/webhook; docs has no token. The webhook marks queued commits
    // pending with the status token, which is the read token when no statusTokenSecret is named.
    assert.deepEqual(
      resourcesFor(full, fns.webhook.role, 'secretsmanager:GetSecretValue').sort(),
      ['ferry/platform/webhook', 'ferry/shop/webhook', 'ferry/platform/token', 'ferry/shop/token']
        .map(secretArn)
        .sort(),
    );
    for (const fn of [fns.worker, fns.reconciler]) {
      assert.deepEqual(
        resourcesFor(full, fn.role, 'secretsmanager:GetSecretValue').sort(),
        ['ferry/platform/token', 'ferry/shop/token'].map(secretArn).sort(),
      );
    }
    assert.deepEqual(resourcesFor(full, fns.scheduler.role, 'secretsmanager:GetSecretValue'), []);
    // minimal.yaml: a public repository, so no token to read.
    assert.deepEqual(
      resourcesFor(minimal, minimal.stack.deployPipeline.worker.role, 'secretsmanager:GetSecretValue'),
      [],
    );
    // No secret is created: the stack refers to the user's secrets by name, never by value.
    full.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  test('eks:DescribeCluster on the configured clusters, in their regions, for the worker and reconciler only', () => {
    const fns = functionsOf(full);
    // CloudFormation joins: a literal region merges into the strings around it.
    const arn = (...parts: unknown[]) =>
      JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]] });
    const expected = [
      arn(':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':cluster/acme-staging'),
      arn(':eks:eu-west-1:', { Ref: 'AWS::AccountId' }, ':cluster/acme-production'),
    ];
    for (const fn of [fns.worker, fns.reconciler]) {
      assert.deepEqual(resourcesFor(full, fn.role, 'eks:DescribeCluster').sort(), expected.sort());
    }
    for (const fn of [fns.webhook, fns.scheduler]) {
      assert.ok(!actionsOfRole(full, fn.role).some((a) => a.startsWith('eks:')));
    }
  });
});

describe('cluster access', () => {
  for (const s of [minimal, full]) {
    test(`one access entry per configured cluster for each role that applies or dry-runs (${s.config.clusters.length} clusters)`, () => {
      const entries = resourcesOfType(s, 'AWS::EKS::AccessEntry').map(([, e]) => e.Properties);
      const { worker } = s.stack.deployPipeline;
      const { reconciler, scheduler } = s.stack.schedule;
      assert.equal(entries.length, s.config.clusters.length * 2);
      for (const cluster of s.config.clusters) {
        assert.equal(cluster.type, 'eks');
        if (cluster.type !== 'eks') continue;
        const mine = entries.filter((e) => e.ClusterName === cluster.clusterName);
        assert.deepEqual(
          mine.map((e) => JSON.stringify(e.PrincipalArn)).sort(),
          [getAtt(s, worker.role), getAtt(s, reconciler.role)].map((a) => JSON.stringify(a)).sort(),
        );
        for (const entry of mine) {
          assert.equal(entry.Type, 'STANDARD');
          assert.deepEqual(entry.AccessPolicies, [
            {
              PolicyArn: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:eks::aws:cluster-access-policy/${cluster.accessPolicy}`,
                  ],
                ],
              },
              AccessScope:
                cluster.namespaces === undefined
                  ? { Type: 'cluster' }
                  : { Type: 'namespace', Namespaces: cluster.namespaces },
            },
          ]);
        }
      }
      const principals = JSON.stringify(entries.map((e) => e.PrincipalArn));
      assert.ok(!principals.includes(s.id(scheduler.role)));
      assert.ok(!principals.includes(s.id(s.stack.intake.webhook.role)));
    });
  }

  test('the access policy and namespace scope come from the configuration', () => {
    full.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'acme-production',
      AccessPolicies: [
        Match.objectLike({
          PolicyArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/AmazonEKSEditPolicy$')])] },
          AccessScope: { Type: 'namespace', Namespaces: ['shop', 'shop-jobs'] },
        }),
      ],
    });
    full.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'acme-staging',
      AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'cluster' } })],
    });
  });

  test('a cluster in another region stops the deployment in a template rule, before any resource', () => {
    const rules = Object.values(full.json.Rules ?? {}).flatMap((r) => r.Assertions);
    const region = rules.filter((a) => JSON.stringify(a.Assert).includes('eu-west-1'));
    assert.deepEqual(
      region.map((a) => a.Assert),
      [{ 'Fn::Equals': ['eu-west-1', { Ref: 'AWS::Region' }] }],
    );
    assert.match(region[0]?.AssertDescription ?? '', /acme-production.*eu-west-1/);
    const minimalRules = Object.keys(minimal.json.Rules ?? {});
    assert.deepEqual(minimalRules, ['CheckBootstrapVersion']);
  });

  test('kubeconfig clusters are refused, naming the field', async () => {
    const config = await loadConfigFile(fixture('kubeconfig-cluster'));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    assert.throws(
      () => new FerryStack(app, 'Ferry', { config }),
      (error: unknown) => error instanceof ConfigError && /clusters\[1\]\.type/.test(error.message),
    );
  });
});

describe('observability', () => {
  const alarms = (s: Synthesised) =>
    resourcesOfType(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  test('alarms on the depth of both dead-letter queues', () => {
    for (const dlq of [
      minimal.stack.deployPipeline.deadLetterQueue,
      minimal.stack.schedule.checkDeadLetterQueue,
    ]) {
      const matching = alarms(minimal).filter(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: getAtt(minimal, dlq, 'QueueName') }]),
      );
      assert.equal(matching.length, 1, dlq.node.path);
      assert.equal(matching[0]?.Threshold, 1);
      assert.equal(matching[0]?.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    }
  });

  test('alarms on errors and throttles of every function', () => {
    for (const fn of Object.values(functionsOf(minimal))) {
      for (const metric of ['Errors', 'Throttles']) {
        const matching = alarms(minimal).filter(
          (a) =>
            a.Namespace === 'AWS/Lambda' &&
            a.MetricName === metric &&
            JSON.stringify(a.Dimensions) ===
              JSON.stringify([{ Name: 'FunctionName', Value: { Ref: minimal.id(fn.function) } }]),
        );
        assert.equal(matching.length, 1, `${metric} of ${fn.node.path}`);
        assert.equal(matching[0]?.Threshold, 1);
      }
    }
  });

  test('alarms notify the configured topic', () => {
    assert.ok(alarms(traced).length >= 10);
    for (const alarm of alarms(traced)) {
      assert.deepEqual(alarm.AlarmActions, ['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
    for (const alarm of alarms(minimal)) assert.equal(alarm.AlarmActions, undefined);
  });

  test('a dashboard with deliveries, deployments by result, deploy duration and queue age', () => {
    const dashboards = resourcesOfType(minimal, 'AWS::CloudWatch::Dashboard');
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0]?.[1].Properties.DashboardBody);
    for (const expected of [
      'Webhook deliveries',
      '\\"AWS/Lambda\\",\\"Invocations\\"',
      'Deployments by result',
      'Deploy duration',
      'ApproximateAgeOfOldestMessage',
    ]) {
      assert.ok(body.includes(expected), `dashboard lacks ${expected}`);
    }
    assert.ok(body.includes(minimal.id(minimal.stack.intake.webhook.function)));
  });
});

describe('outputs', () => {
  test('the secret names to fill in', () => {
    assert.equal(full.json.Outputs.WebhookSecretNames?.Value, 'ferry/platform/webhook, ferry/shop/webhook');
    assert.equal(full.json.Outputs.TokenSecretNames?.Value, 'ferry/platform/token, ferry/shop/token');
    assert.equal(minimal.json.Outputs.WebhookSecretNames?.Value, 'ferry/site/webhook');
    assert.equal(minimal.json.Outputs.TokenSecretNames, undefined);
  });
});

describe('notifications', () => {
  const envOf = (s: Synthesised, fn: IConstruct) =>
    (resource(s, fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  test('the stack creates an encrypted topic that takes TLS only, and outputs it', () => {
    const { topic } = notifying.stack.notifications;
    notifying.template.resourceCountIs('AWS::SNS::Topic', 1);
    const props = resource(notifying, topic).Properties;
    assert.equal(props.KmsMasterKeyId, 'alias/aws/sns');
    notifying.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: notifying.id(topic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    assert.deepEqual(notifying.json.Outputs.NotificationTopicArn?.Value, { Ref: notifying.id(topic) });
  });

  test('the worker and the reconciler may publish to it and know where it is; the others neither', () => {
    const fns = functionsOf(notifying);
    const topic = JSON.stringify({ Ref: notifying.id(notifying.stack.notifications.topic) });
    for (const fn of [fns.worker, fns.reconciler]) {
      assert.deepEqual(resourcesFor(notifying, fn.role, 'sns:Publish'), [topic]);
      assert.deepEqual(JSON.stringify(envOf(notifying, fn.function).FERRY_NOTIFICATION_TOPIC_ARN), topic);
    }
    for (const fn of [fns.webhook, fns.scheduler]) {
      assert.ok(!actionsOfRole(notifying, fn.role).some((a) => a.startsWith('sns:')), fn.node.path);
      assert.equal('FERRY_NOTIFICATION_TOPIC_ARN' in envOf(notifying, fn.function), false);
    }
  });

  test('the webhook, worker and reconciler know the worker’s log group, which commit statuses link to', () => {
    const fns = functionsOf(minimal);
    const logGroup = { Ref: minimal.id(fns.worker.logGroup) };
    for (const fn of [fns.webhook, fns.worker, fns.reconciler]) {
      assert.deepEqual(envOf(minimal, fn.function).FERRY_WORKER_LOG_GROUP, logGroup, fn.node.path);
    }
    assert.equal('FERRY_WORKER_LOG_GROUP' in envOf(minimal, fns.scheduler.function), false);
  });

  test('a topic named by notificationTopicArn is used as it is: no topic created, publish granted on it', () => {
    ownTopic.template.resourceCountIs('AWS::SNS::Topic', 0);
    const fns = functionsOf(ownTopic);
    for (const fn of [fns.worker, fns.reconciler]) {
      assert.deepEqual(resourcesFor(ownTopic, fn.role, 'sns:Publish'), [JSON.stringify(ownTopicArn)]);
      assert.equal(envOf(ownTopic, fn.function).FERRY_NOTIFICATION_TOPIC_ARN, ownTopicArn);
    }
    assert.equal(ownTopic.json.Outputs.NotificationTopicArn?.Value, ownTopicArn);
  });

  test('webhook secrets to the worker and reconciler; status tokens to them and to the webhook', () => {
    const fns = functionsOf(notifying);
    const secrets = (fn: { role: IConstruct }) =>
      resourcesFor(notifying, fn.role, 'secretsmanager:GetSecretValue').sort();
    const tokens = ['ferry/shop/token', 'ferry/shop/status-token', 'ferry/site/token'];
    const webhooks = ['ferry/chat/slack-url', 'ferry/ops/signing-key'];
    for (const fn of [fns.worker, fns.reconciler]) {
      assert.deepEqual(secrets(fn), [...tokens, ...webhooks].map(secretArn).sort());
    }
    // shop posts statuses with its own token, site with its read token.
    assert.deepEqual(
      secrets(fns.webhook),
      ['ferry/shop/webhook', 'ferry/site/webhook', 'ferry/shop/status-token', 'ferry/site/token']
        .map(secretArn)
        .sort(),
    );
    assert.deepEqual(secrets(fns.scheduler), []);
    assert.equal(notifying.json.Outputs.NotificationSecretNames?.Value, webhooks.join(', '));
    assert.equal(notifying.json.Outputs.TokenSecretNames?.Value, [...tokens].sort().join(', '));
    assert.equal(minimal.json.Outputs.NotificationSecretNames, undefined);
  });
});

describe('alarms on what Ferry did', () => {
  const alarmOf = (s: Synthesised, construct: IConstruct) => resource(s, construct).Properties;
  const queryOf = (alarm: Record<string, unknown>) => {
    const metrics = alarm.Metrics as { Expression: string; Period: number; ReturnData: boolean }[];
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0]?.ReturnData, true);
    return metrics[0] as { Expression: string; Period: number };
  };

  test('failed deployments: any in five minutes, one contributor per app environment', () => {
    const alarm = alarmOf(minimal, minimal.stack.observability.failedDeploymentsAlarm);
    const { Expression, Period } = queryOf(alarm);
    assert.equal(
      Expression,
      `SELECT SUM(Deployments) FROM SCHEMA("Ferry", app, environment, result, service) WHERE result = 'failed' GROUP BY app, environment`,
    );
    assert.equal(Period, 300);
    assert.equal(alarm.Threshold, 1);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(alarm.EvaluationPeriods, 1);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  test('parts OutOfSync: one series whatever the parts, firing once a part has been OutOfSync the configured time', () => {
    for (const [s, minutes] of [
      [minimal, 30],
      [notifying, 60],
    ] as const) {
      const alarm = alarmOf(s, s.stack.observability.outOfSyncAlarm);
      const { Expression, Period } = queryOf(alarm);
      assert.equal(Expression, 'SELECT MAX(LongestOutOfSync) FROM SCHEMA("Ferry", service)');
      assert.equal(Period, (minutes / 2) * 60, 'half the time: every part is checked in each period');
      assert.equal(alarm.Threshold, minutes * 60);
      assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(alarm.EvaluationPeriods, 1);
      assert.match(String(alarm.AlarmDescription), new RegExp(`OutOfSync for ${minutes} minutes`));
      assert.match(String(alarm.AlarmDescription), /ferry status/);
    }
  });

  test('both notify the alarm topic and show on the dashboard with the metrics behind them', () => {
    for (const construct of [
      traced.stack.observability.failedDeploymentsAlarm,
      traced.stack.observability.outOfSyncAlarm,
    ]) {
      const alarm = alarmOf(traced, construct);
      assert.deepEqual(alarm.AlarmActions, ['arn:aws:sns:eu-west-1:123456789012:ops']);
      assert.deepEqual(alarm.OKActions, ['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
    const body = JSON.stringify(resourcesOfType(minimal, 'AWS::CloudWatch::Dashboard')[0]?.[1].Properties);
    for (const alarm of [
      minimal.stack.observability.failedDeploymentsAlarm,
      minimal.stack.observability.outOfSyncAlarm,
    ]) {
      assert.ok(body.includes(minimal.id(alarm)), `the dashboard lacks ${alarm.node.id}`);
    }
    for (const metric of [
      'Deployments',
      'DeployDuration',
      'ObjectsApplied',
      'ObjectsPruned',
      'OutOfSync',
      'LongestOutOfSync',
      'ChecksFailed',
      'StatusPostsFailed',
      'NotificationsFailed',
    ]) {
      assert.ok(body.includes(`(${metric}) FROM SCHEMA`), `the dashboard lacks ${metric}`);
    }
    for (const title of [
      'Failed deployments by app/environment',
      'Parts OutOfSync',
      'Objects applied and pruned',
      'Failed checks by app/environment',
    ]) {
      assert.ok(body.includes(title), `the dashboard lacks ${title}`);
    }
  });
});
