// The outbound webhooks against a loopback HTTP server that verifies what a receiver would: the JSON webhook's
// HMAC-SHA256 signature, its delivery id and event, the Slack text; filters, bounded requests and the classes
// of refusals; and through the core's Feedback, retries of transient failures and none of a refusal.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { LocalSecretSource, secretVariable } from '../../functions/adapters/local/local-secret-source.ts';
import { deliveryId, notificationOf } from '../../functions/adapters/notify/event.ts';
import { webhookNotifiers } from '../../functions/adapters/notify/webhook.ts';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { classify, Failure } from '../../functions/core/errors.ts';
import { Feedback } from '../../functions/core/feedback/feedback.ts';
import type { SyncChange } from '../../functions/core/model/feedback.ts';
import type { Notifier } from '../../functions/core/ports.ts';
import { signatureValid, WebhookReceiver } from '../support/notify-receiver.ts';
import { syncChange } from '../support/sync-change.ts';

const SIGNING_KEY = 'a-signing-key-only-ferry-and-the-receiver-know';
const SLACK_PATH = '/services/T0001/B0001/the-secret-part-of-the-url';

let receiver: WebhookReceiver;
before(async () => {
  receiver = await WebhookReceiver.start();
});
after(() => receiver.close());
beforeEach(() => {
  receiver.received.length = 0;
});

const secrets = () =>
  new LocalSecretSource({
    env: {
      [secretVariable('ferry/ops/signing')]: SIGNING_KEY,
      [secretVariable('ferry/chat/url')]: receiver.url(SLACK_PATH),
    },
  });

type WebhookInput = NonNullable<ConfigInput['notifications']>['webhooks'];

/** The notifiers of a configuration with the given webhooks (default: one JSON, one Slack). */
function notifiers(webhooks?: WebhookInput, timeoutMs?: number): Notifier[] {
  const config = parseConfig({
    repositories: [
      { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: 'w' },
    ],
    clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
    apps: ['shop', 'blog'].map((name) => ({
      name,
      repository: 'shop',
      path: 'deploy',
      environments: ['staging', 'production'].map((env) => ({
        name: env,
        cluster: 'main',
        namespace: name,
        trigger: { branches: ['main'] },
      })),
    })),
    notifications: {
      webhooks: webhooks ?? [
        { name: 'ops', type: 'json', url: receiver.url('/ferry'), signingSecret: 'ferry/ops/signing' },
        { name: 'chat', type: 'slack', urlSecret: 'ferry/chat/url' },
      ],
    },
  });
  return webhookNotifiers(config, secrets(), timeoutMs === undefined ? {} : { timeoutMs });
}

const notifyAll = (list: readonly Notifier[], c: SyncChange) => Promise.all(list.map((n) => n.notify(c)));

describe('JSON webhook', () => {
  test('posts the event, signed with HMAC-SHA256 of the raw body, with its delivery id and event', async () => {
    const failed = syncChange();
    await notifyAll(notifiers(), failed);
    const [request, ...more] = receiver.to('/ferry');
    assert.ok(request);
    assert.equal(more.length, 0);
    assert.ok(signatureValid(request, SIGNING_KEY), 'the receiver verifies the signature');
    assert.ok(!signatureValid(request, 'another-key'), 'and refuses it under another key');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-ferry-delivery'], deliveryId(failed));
    assert.equal(request.headers['x-ferry-event'], 'failed');
    const body = JSON.parse(request.body);
    assert.deepEqual(body, notificationOf(failed));
    assert.ok(!request.body.includes(SIGNING_KEY));
  });

  test('a retried change carries the same delivery id, so the receiver drops the repeat', async () => {
    const [json] = notifiers();
    const failed = syncChange();
    await json?.notify(failed);
    await json?.notify(failed);
    const ids = receiver.to('/ferry').map((r) => r.headers['x-ferry-delivery']);
    assert.deepEqual(ids, [deliveryId(failed), deliveryId(failed)]);
    assert.equal(receiver.to('/ferry')[0]?.body, receiver.to('/ferry')[1]?.body, 'byte for byte');
  });
});

describe('Slack webhook', () => {
  test('posts a short text to the URL held in its secret', async () => {
    await notifyAll(
      notifiers(),
      syncChange({ from: 'Failed', to: 'Synced', message: 'applied 3f2c1a9e0b4d: 2 created' }),
    );
    const [request, ...more] = receiver.to(SLACK_PATH);
    assert.ok(request);
    assert.equal(more.length, 0);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body), {
      text: ':white_check_mark: Ferry: shop/production recovered: Synced at 3f2c1a9e0b4d\napplied 3f2c1a9e0b4d: 2 created',
    });
  });
});

describe('filters', () => {
  test('a webhook is told only of its apps, environments and events', async () => {
    const filtered = notifiers([
      {
        name: 'prod-failures',
        type: 'json',
        url: receiver.url('/prod-failures'),
        signingSecret: 'ferry/ops/signing',
        apps: ['shop'],
        environments: ['production'],
        events: ['failed', 'recovered'],
      },
    ]);
    const key = { app: 'shop', environment: 'production', part: 'app' } as const;
    const changes = [
      syncChange({ key }),
      syncChange({ key: { ...key, app: 'blog' } }),
      syncChange({ key: { ...key, environment: 'staging' } }),
      syncChange({ key, to: 'OutOfSync' }),
      syncChange({ key, from: 'Unknown', to: 'Synced' }),
      syncChange({ key, from: 'OutOfSync', to: 'Synced' }),
      syncChange({ key: { ...key, part: 'config' } }),
    ];
    for (const c of changes) await notifyAll(filtered, c);
    const told = receiver
      .to('/prod-failures')
      .map((r) => JSON.parse(r.body) as { event: string; part: string });
    assert.deepEqual(
      told.map((m) => `${m.event} ${m.part}`),
      ['failed app', 'recovered app', 'failed config'],
    );
  });
});

describe('failures', () => {
  const failureOf = async (notifier: Notifier | undefined): Promise<Failure> => {
    assert.ok(notifier);
    try {
      await notifier.notify(syncChange());
    } catch (error) {
      assert.ok(error instanceof Failure, String(error));
      return error;
    }
    assert.fail('the notification was sent');
  };

  test('4xx is the configuration’s; 408, 429 and 5xx are transient; the host’s answer is named', async () => {
    const [json] = notifiers();
    for (const [status, expected] of [
      [400, 'configuration'],
      [404, 'configuration'],
      [410, 'configuration'],
      [408, 'transient'],
      [429, 'transient'],
      [500, 'transient'],
      [503, 'transient'],
    ] as const) {
      receiver.answerNext({ status, body: `answer ${status}` });
      const failure = await failureOf(json);
      assert.equal(classify(failure), expected, `HTTP ${status}`);
      assert.match(
        failure.message,
        new RegExp(`^json/ops \\(127\\.0\\.0\\.1:\\d+\\): HTTP ${status}: answer ${status}$`),
      );
    }
    receiver.answerNext({ status: 301, body: '' });
    assert.equal(classify(await failureOf(json)), 'configuration', 'a redirect is not followed');
  });

  test('no failure of the Slack webhook names its URL, which is its credential', async () => {
    const [, slack] = notifiers();
    receiver.answerNext({ status: 404, body: 'no_service' }, 'hang');
    const refused = await failureOf(slack);
    assert.equal(refused.message, 'slack/chat: HTTP 404: no_service');
    const [, slowSlack] = notifiers(undefined, 200);
    const timedOut = await failureOf(slowSlack);
    assert.equal(classify(timedOut), 'transient');
    for (const failure of [refused, timedOut]) {
      assert.doesNotMatch(failure.message, /the-secret-part|T0001|127\.0\.0\.1/);
      assert.doesNotMatch(JSON.stringify(failure.cause ?? null), /the-secret-part/);
    }
  });

  test('a request is bounded in time; a server that never answers is a transient failure', async () => {
    receiver.answerNext('hang');
    const [json] = notifiers(undefined, 300);
    const started = Date.now();
    const failure = await failureOf(json);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal(classify(failure), 'transient');
    assert.match(failure.message, /no answer within 300 ms/);
  });

  test('a refused connection is transient; a missing secret or a Slack secret that holds no URL is the configuration’s', async () => {
    const closed = await WebhookReceiver.start();
    const url = closed.url('/gone');
    await closed.close();
    const [down] = notifiers([{ name: 'down', type: 'json', url, signingSecret: 'ferry/ops/signing' }]);
    const refused = await failureOf(down);
    assert.equal(classify(refused), 'transient');
    assert.match(refused.message, /ECONNREFUSED/);
    const [unset] = notifiers([{ name: 'unset', type: 'json', url, signingSecret: 'ferry/unset' }]);
    assert.equal(classify(await failureOf(unset)), 'configuration');
    const [notUrl] = notifiers([{ name: 'bad', type: 'slack', urlSecret: 'ferry/ops/signing' }]);
    const bad = await failureOf(notUrl);
    assert.equal(classify(bad), 'configuration');
    assert.match(bad.message, /secret ferry\/ops\/signing does not hold an http\(s\) URL/);
    assert.doesNotMatch(bad.message, new RegExp(SIGNING_KEY));
  });
});

describe('through the Feedback', () => {
  const feedback = (list: Notifier[], failures: Record<string, unknown>[]) =>
    new Feedback({
      config: parseConfig({
        repositories: [
          { name: 'r', url: 'https://github.com/a/r.git', provider: 'github', webhookSecret: 'w' },
        ],
        clusters: [{ name: 'c', type: 'eks', clusterName: 'c' }],
        apps: [
          {
            name: 'shop',
            repository: 'r',
            path: 'deploy',
            environments: [
              { name: 'production', cluster: 'c', namespace: 'shop', trigger: { branches: ['main'] } },
            ],
          },
        ],
      }),
      secrets: secrets(),
      reporters: {},
      notifiers: list,
      backoffMs: 20,
      onFailure: (_what, detail) => failures.push(detail),
    });

  test('a transient failure is tried again and the change arrives once, under one delivery id', async () => {
    receiver.answerNext({ status: 503 }, { status: 429 });
    const failures: Record<string, unknown>[] = [];
    const told = feedback(notifiers().slice(0, 1), failures);
    const failed = syncChange();
    told.changed(failed);
    await told.settle();
    const requests = receiver.to('/ferry');
    assert.equal(requests.length, 3, 'two refusals, then delivered');
    assert.deepEqual(
      new Set(requests.map((r) => r.headers['x-ferry-delivery'])),
      new Set([deliveryId(failed)]),
    );
    assert.deepEqual(failures, []);
  });

  test('a refusal is not tried again; it is reported without the secret URL', async () => {
    receiver.answerNext({ status: 403, body: 'action_prohibited' });
    const failures: Record<string, unknown>[] = [];
    const told = feedback(notifiers().slice(1), failures);
    told.changed(syncChange());
    await told.settle();
    assert.equal(receiver.to(SLACK_PATH).length, 1);
    assert.deepEqual(failures, [
      {
        ...syncChange().key,
        notifier: 'slack/chat',
        from: 'Synced',
        to: 'Failed',
        error: 'slack/chat: HTTP 403: action_prohibited',
      },
    ]);
  });
});
