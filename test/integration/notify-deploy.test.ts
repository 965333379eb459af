// One message per change of state, end to end: the core's deploy and reconcile on the test bed (a real Git
// server, kube-apiserver and moto) tell a Feedback wired to the SNS notifier (read back through a subscribed
// queue) and to a Slack and a signed JSON webhook (a loopback receiver). A part goes failed, stays failed,
// recovers, drifts OutOfSync over two checks and recovers again: exactly four messages reach each, once each.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { NotificationMessage } from '../../functions/adapters/notify/event.ts';
import { SnsNotifier } from '../../functions/adapters/notify/sns.ts';
import { webhookNotifiers } from '../../functions/adapters/notify/webhook.ts';
import { parseConfig } from '../../functions/core/config.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { Feedback } from '../../functions/core/feedback/feedback.ts';
import { checkEnvironment } from '../../functions/core/reconcile/check.ts';
import { receiveAll } from '../support/aws.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { signatureValid, WebhookReceiver } from '../support/notify-receiver.ts';
import { type Fixture, reconcileFixture } from '../support/reconcile.ts';
import { createNamespaces, testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
const SIGNING_KEY = 'the-ops-receiver-signing-key';
const SLACK_PATH = '/services/T0001/B0001/secret';

let receiver: WebhookReceiver;
before(async () => {
  receiver = await WebhookReceiver.start();
});
after(async () => {
  await receiver.close();
  api.close();
});

async function createSecret(value: string): Promise<string> {
  const name = uniqueName('ferry/notify');
  await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return name;
}

/** A topic in moto with a queue subscribed to it (raw delivery: the queue holds the event itself). */
async function topicWithQueue(): Promise<{ topicArn: string; queueUrl: string }> {
  const sns = new SNSClient({});
  const sqs = new SQSClient({});
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('ferry-events') }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('ferry-subscriber') }));
  assert.ok(TopicArn && QueueUrl);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { topicArn: TopicArn, queueUrl: QueueUrl };
}

/** The fixture's part, wired to a Feedback with the SNS notifier and both webhooks. */
async function notifyingPart() {
  const fixture = await reconcileFixture();
  const [signing, slackUrl, subscriber] = await Promise.all([
    createSecret(SIGNING_KEY),
    createSecret(receiver.url(SLACK_PATH)),
    topicWithQueue(),
    createNamespaces(api, [fixture.namespace]),
  ]);
  const config = parseConfig({
    ...fixture.deps.config,
    notifications: {
      webhooks: [
        { name: 'ops', type: 'json', url: receiver.url(`/${fixture.app}`), signingSecret: signing },
        { name: 'chat', type: 'slack', urlSecret: slackUrl },
      ],
    },
  });
  const failures: Record<string, unknown>[] = [];
  const feedback = new Feedback({
    config,
    secrets: fixture.deps.secrets,
    reporters: {},
    notifiers: [new SnsNotifier(subscriber.topicArn), ...webhookNotifiers(config, fixture.deps.secrets)],
    onFailure: (_what, detail) => failures.push(detail),
  });
  const deps = { ...fixture.deps, config, feedback };
  const checkDeps = { ...deps, store: fixture.store, queue: new SqsJobQueue(fixture.queueUrl) };
  return { fixture, feedback, failures, deps, checkDeps, subscriber };
}

const broken = (name: string) =>
  yaml({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 'not-a-number' }] },
  });

/** Commits, pushes and deploys, then waits for what the deployment told. */
async function push(part: Awaited<ReturnType<typeof notifyingPart>>, files: Record<string, string | null>) {
  const commit = await part.fixture.workspace.commit(files);
  await part.fixture.workspace.push();
  const record = await deploy(part.fixture.job(commit), part.deps);
  await part.feedback.settle();
  return { commit, record };
}

async function check(part: Awaited<ReturnType<typeof notifyingPart>>, fixture: Fixture) {
  const record = await checkEnvironment(
    {
      app: fixture.app,
      environment: 'staging',
      part: 'app',
      tickId: uniqueName('tick'),
      scheduledAt: new Date().toISOString(),
    },
    part.checkDeps,
  );
  await part.feedback.settle();
  return record;
}

describe('notifications: one message per change of state', () => {
  test('failed, still failed, recovered, drifted over two checks, recovered: four messages, once each', async () => {
    const part = await notifyingPart();
    const { fixture } = part;
    const cm = yaml(configMap('settings', { v: '1' }));
    const first = await push(part, { 'deploy/cm.yaml': cm, 'deploy/bad.yaml': broken('one') });
    assert.equal(first.record.result, 'failed', first.record.message);
    const second = await push(part, { 'deploy/bad.yaml': broken('two') });
    assert.equal(second.record.result, 'failed', 'failed again: no change of state');
    const fixed = await push(part, { 'deploy/bad.yaml': null });
    assert.equal(fixed.record.result, 'succeeded', fixed.record.message);
    assert.equal((await check(part, fixture)).action, 'none');
    await api.request({
      method: 'DELETE',
      path: `/api/v1/namespaces/${fixture.namespace}/configmaps/settings`,
    });
    assert.equal((await check(part, fixture)).action, 'out-of-sync');
    assert.equal((await check(part, fixture)).action, 'out-of-sync', 'a second check of the same drift');
    const healed = await push(part, { 'deploy/cm.yaml': yaml(configMap('settings', { v: '2' })) });
    assert.equal(healed.record.result, 'succeeded', healed.record.message);

    const expected = [
      ['failed', 'Unknown', 'Failed', first.commit],
      ['recovered', 'Failed', 'Synced', fixed.commit],
      ['out-of-sync', 'Synced', 'OutOfSync', fixed.commit],
      ['recovered', 'OutOfSync', 'Synced', healed.commit],
    ];
    const summary = (m: NotificationMessage) => [m.event, m.from, m.to, m.commit];

    const json = receiver.to(`/${fixture.app}`);
    assert.deepEqual(
      json.map((r) => summary(JSON.parse(r.body))),
      expected,
    );
    for (const request of json) assert.ok(signatureValid(request, SIGNING_KEY), 'signed under the key');
    const ids = json.map((r) => r.headers['x-ferry-delivery']);
    assert.equal(new Set(ids).size, 4, 'one delivery id per change');

    const fromSns = (await receiveAll<NotificationMessage>(part.subscriber.queueUrl)).map((m) => m.body);
    assert.deepEqual(fromSns.sort((a, b) => a.at.localeCompare(b.at)).map(summary), expected);
    assert.deepEqual(
      fromSns.map((m) => m.id),
      ids,
      'SNS and the webhook carry the same ids',
    );

    const texts = receiver.to(SLACK_PATH).map((r) => (JSON.parse(r.body) as { text: string }).text);
    const where = `${fixture.app}/staging`;
    assert.equal(texts.length, 4);
    assert.match(
      texts[0] ?? '',
      new RegExp(`^:x: Ferry: ${where} failed at ${first.commit.slice(0, 12)}\\n`),
    );
    assert.match(texts[1] ?? '', new RegExp(`^:white_check_mark: Ferry: ${where} recovered: Synced at `));
    assert.match(
      texts[2] ?? '',
      new RegExp(`^:warning: Ferry: ${where} is OutOfSync .*\\n1 object\\(s\\) drifted`),
    );
    assert.match(
      texts[3] ?? '',
      new RegExp(`^:white_check_mark: Ferry: ${where} recovered: Synced at ${healed.commit.slice(0, 12)}`),
    );
    assert.deepEqual(part.failures, []);
  });
});
