// The webhook Lambda end to end: API Gateway HTTP API events into the real handler, against moto's SQS FIFO,
// DynamoDB and Secrets Manager.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import { handler } from '../../functions/webhook/handler.ts';
import { createDeployQueue, createStateTable, receiveAll } from '../support/aws.ts';
import { uniqueName } from '../support/testbed.ts';
import {
  apiEvent,
  type Delivery,
  giteaDelivery,
  githubDelivery,
  githubPushExamples,
  gitlabDelivery,
  hmacHex,
  lambdaContext,
  type Payload,
  signingToken,
  webhookFixture,
} from '../support/webhooks.ts';

const VECTOR_SECRET = "It's a Secret to Everybody";
const HELLO_SECRET = randomUUID();
const SHOP_SECRET = randomUUID();
const GITLAB_TOKEN = randomUUID();
const GITLAB_SIGNING_TOKEN = signingToken();
const GITEA_SECRET = randomUUID();
const ROTATION = { old: randomUUID(), next: randomUUID() };
const CACHED_SECRET = randomUUID();

const secretNames = {
  vector: uniqueName('ferry/vector/webhook'),
  hello: uniqueName('ferry/hello/webhook'),
  shop: uniqueName('ferry/shop/webhook'),
  platform: uniqueName('ferry/platform/webhook'),
  infra: uniqueName('ferry/infra/webhook'),
  rotating: uniqueName('ferry/rotating/webhook'),
  cached: uniqueName('ferry/cached/webhook'),
};

const environment = (
  name: string,
  trigger: Record<string, string[]>,
  extra: Record<string, unknown> = {},
) => ({
  name,
  cluster: 'main',
  namespace: name,
  trigger,
  ...extra,
});
const app = (name: string, repository: string, environments: ReturnType<typeof environment>[]) => ({
  name,
  repository,
  path: 'deploy',
  environments,
});

const config = {
  repositories: [
    {
      name: 'vector',
      url: 'https://github.com/acme/vector',
      provider: 'github',
      webhookSecret: secretNames.vector,
    },
    {
      name: 'hello',
      url: 'https://github.com/Codertocat/Hello-World.git',
      provider: 'github',
      webhookSecret: secretNames.hello,
    },
    {
      name: 'hello-ghes',
      url: 'https://octocoders.github.io/codertocat/hello-world',
      provider: 'github',
      webhookSecret: secretNames.hello,
    },
    {
      name: 'shop',
      url: 'https://github.com/acme/shop.git',
      provider: 'github',
      webhookSecret: secretNames.shop,
    },
    {
      name: 'platform',
      url: 'https://gitlab.example.com/acme/platform.git',
      provider: 'gitlab',
      webhookSecret: secretNames.platform,
    },
    {
      name: 'infra',
      url: 'https://gitea.example.com/acme/infra.git',
      provider: 'gitea',
      webhookSecret: secretNames.infra,
    },
    {
      name: 'rotating',
      url: 'https://github.com/acme/rotating.git',
      provider: 'github',
      webhookSecret: secretNames.rotating,
    },
    {
      name: 'cached',
      url: 'https://github.com/acme/cached.git',
      provider: 'github',
      webhookSecret: secretNames.cached,
    },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: [
    app('vector', 'vector', [environment('dev', { branches: ['main'] })]),
    app('hello', 'hello', [
      environment('dev', { branches: ['master'] }),
      environment('release', { tags: ['simple-*'] }),
    ]),
    app('hello-ghes', 'hello-ghes', [environment('release', { branches: ['master'], tags: ['simple-*'] })]),
    app('shop', 'shop', [
      environment('staging', { branches: ['main'] }, { config: { path: 'config/staging' } }),
      environment('qa', { branches: ['main', 'release/*'], paths: ['deploy/**'] }),
      environment('production', { tags: ['v*'] }),
      environment('paused', { branches: ['main'] }, { suspend: true }),
    ]),
    app('platform', 'platform', [
      environment('staging', { branches: ['main'], paths: ['charts/**'] }),
      environment('docs', { branches: ['main'], paths: ['docs/**'] }),
      environment('production', { tags: ['v*'] }),
    ]),
    app('infra', 'infra', [environment('staging', { branches: ['main'] })]),
    app('rotating', 'rotating', [environment('staging', { branches: ['main'] })]),
    app('cached', 'cached', [environment('staging', { branches: ['main'] })]),
  ],
} satisfies ConfigInput;

let queueUrl: string;
let tableName: string;
const secretsManager = new SecretsManagerClient({});
const dynamodb = new DynamoDBClient({});

// The handler's structured logs, captured to check what they hold (and what they never hold).
const logLines: string[] = [];
const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
function capture(stream: NodeJS.WriteStream, original: typeof process.stdout.write) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes('"service":"ferry-webhook"')) {
      logLines.push(chunk);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof process.stdout.write;
}

before(async () => {
  [queueUrl, tableName] = await Promise.all([createDeployQueue(), createStateTable()]);
  const values: Record<keyof typeof secretNames, string> = {
    vector: VECTOR_SECRET,
    hello: HELLO_SECRET,
    shop: `${SHOP_SECRET}\n`,
    platform: JSON.stringify([GITLAB_TOKEN, GITLAB_SIGNING_TOKEN]),
    infra: GITEA_SECRET,
    rotating: JSON.stringify([ROTATION.next, ROTATION.old]),
    cached: CACHED_SECRET,
  };
  for (const [key, name] of Object.entries(secretNames)) {
    await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: values[key as keyof typeof secretNames] }),
    );
  }
  // As the stack builds it into the function: validated, defaults applied.
  process.env.FERRY_CONFIG_JSON = JSON.stringify(parseConfig(config));
  process.env.FERRY_QUEUE_URL = queueUrl;
  process.env.FERRY_TABLE_NAME = tableName;
  capture(process.stdout, writes.stdout);
  capture(process.stderr, writes.stderr);
});

after(() => {
  process.stdout.write = writes.stdout;
  process.stderr.write = writes.stderr;
});

interface Answer {
  status: number;
  body: {
    delivery?: string;
    jobs?: { app: string; environment: string; part: string; ref: string; commit: string; group: string }[];
    skipped?: { app: string; environment: string; reason: string }[];
    ignored?: string;
    error?: string;
  };
}

async function deliver(delivery: Delivery): Promise<Answer> {
  const response = await handler(apiEvent(delivery), lambdaContext());
  assert.equal(response.headers?.['content-type'], 'application/json');
  return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') };
}

const drain = () => receiveAll<DeployJob>(queueUrl);
const jobsOf = (answer: Answer) => (answer.body.jobs ?? []).map((j) => `${j.group}@${j.commit.slice(0, 7)}`);

const shopPush = (changed: string[], extra: Payload = {}): Payload => ({
  ref: 'refs/heads/main',
  before: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
  after: '9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d',
  created: false,
  deleted: false,
  forced: false,
  base_ref: null,
  compare: 'https://github.com/acme/shop/compare/1f2e3d4c5b6a...9a8b7c6d5e4f',
  repository: {
    name: 'shop',
    full_name: 'acme/shop',
    html_url: 'https://github.com/acme/shop',
    clone_url: 'https://github.com/acme/shop.git',
    url: 'https://github.com/acme/shop',
  },
  commits: [
    {
      id: '9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d',
      message: 'Change things',
      added: [],
      removed: [],
      modified: changed,
    },
  ],
  head_commit: { id: '9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d', message: 'Change things' },
  ...extra,
});

describe('GitHub: the documented test vector', () => {
  test("GitHub's documented test vector verifies (then the body is no JSON payload); a changed one does not", async () => {
    const vector = {
      body: 'Hello, World!',
      signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    const authentic = await deliver(githubDelivery(vector.body, { signature: vector.signature }));
    assert.equal(authentic.status, 400);
    assert.match(authentic.body.error ?? '', /malformed body/);
    const changed = await deliver(
      githubDelivery(vector.body, { signature: vector.signature.replace('7571', '7570') }),
    );
    assert.equal(changed.status, 401);
    assert.deepEqual(await drain(), []);
  });

  test('a push signed with the vector secret deploys', async () => {
    const payload = shopPush(['deploy/a.yaml'], {
      repository: { clone_url: 'https://github.com/acme/vector.git' },
    });
    const answer = await deliver(githubDelivery(payload, { secret: VECTOR_SECRET }));
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['vector/dev/app@9a8b7c6']);
    assert.equal((await drain()).length, 1);
  });
});

describe('GitHub: the push examples and form bodies', () => {
  test('every push example of @octokit/webhooks-examples', async () => {
    const examples = githubPushExamples();
    assert.ok(examples.length >= 7, 'the examples hold pushes');
    for (const { name, payload } of examples) {
      const id = randomUUID();
      const answer = await deliver(githubDelivery(payload, { secret: HELLO_SECRET, id }));
      const ref = String(payload.ref);
      const jobs = await drain();
      if (payload.deleted) {
        assert.equal(answer.status, 200, name);
        assert.equal(
          answer.body.ignored,
          `${ref.startsWith('refs/tags/') ? 'tag' : 'branch'} deletion`,
          name,
        );
        assert.deepEqual(jobs, [], name);
        continue;
      }
      const ghes = String((payload.repository as { html_url: string }).html_url).includes('octocoders');
      const [app, environment] = (
        ghes ? 'hello-ghes/release' : ref.startsWith('refs/tags/') ? 'hello/release' : 'hello/dev'
      ).split('/');
      const expected = `${app}/${environment}/app`;
      const commit = (payload.head_commit as { id: string }).id;
      assert.equal(answer.status, 202, name);
      assert.deepEqual(answer.body.jobs, [
        {
          app,
          environment,
          part: 'app',
          ref,
          commit,
          group: expected,
        },
      ]);
      assert.deepEqual(
        jobs.map((j) => ({ group: j.groupId, job: { ...j.body, id: undefined, enqueuedAt: undefined } })),
        [
          {
            group: expected,
            job: {
              id: undefined,
              app,
              environment,
              part: 'app',
              ref,
              commit,
              trigger: { kind: 'push', deliveryId: id, provider: 'github' },
              enqueuedAt: undefined,
            },
          },
        ],
        name,
      );
    }
  });

  test('a form-encoded delivery is verified over the raw form body', async () => {
    const answer = await deliver(
      githubDelivery(shopPush(['deploy/a.yaml']), { secret: SHOP_SECRET, form: true }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['shop/staging/app@9a8b7c6', 'shop/qa/app@9a8b7c6']);
    assert.equal((await drain()).length, 2);

    // A signature over the JSON alone does not cover what GitHub sent.
    const json = JSON.stringify(shopPush(['deploy/a.yaml']));
    const overJson = githubDelivery(json, {
      form: true,
      signature: `sha256=${hmacHex(SHOP_SECRET, json)}`,
    });
    assert.equal((await deliver(overJson)).status, 401);
    assert.deepEqual(await drain(), []);
  });
});

describe('GitHub: signatures and secrets', () => {
  test('wrong, missing and SHA-1-only signatures get 401 and enqueue nothing', async () => {
    const payload = shopPush(['deploy/a.yaml']);
    const wrong = await deliver(githubDelivery(payload, { secret: 'not the secret' }));
    assert.deepEqual([wrong.status, wrong.body.error], [401, 'X-Hub-Signature-256 does not match']);

    const missing = await deliver(githubDelivery(payload, { signature: undefined }));
    assert.deepEqual([missing.status, missing.body.error], [401, 'missing X-Hub-Signature-256']);

    const body = JSON.stringify(payload);
    const sha1Only = githubDelivery(body, { signature: undefined });
    const { createHmac } = await import('node:crypto');
    sha1Only.headers['X-Hub-Signature'] =
      `sha1=${createHmac('sha1', SHOP_SECRET).update(body).digest('hex')}`;
    const sha1 = await deliver(sha1Only);
    assert.equal(sha1.status, 401);
    assert.match(sha1.body.error ?? '', /SHA-1/);

    assert.deepEqual(await drain(), []);
  });

  test('during a rotation both secrets are accepted, and no other', async () => {
    const payload = shopPush(['deploy/a.yaml'], {
      repository: { clone_url: 'https://github.com/acme/rotating.git' },
    });
    for (const secret of [ROTATION.old, ROTATION.next]) {
      const answer = await deliver(githubDelivery(payload, { secret }));
      assert.equal(answer.status, 202);
      assert.deepEqual(jobsOf(answer), ['rotating/staging/app@9a8b7c6']);
    }
    assert.equal((await deliver(githubDelivery(payload, { secret: randomUUID() }))).status, 401);
    assert.equal((await drain()).length, 2);
  });

  test('a warm invocation uses the cached secret: no Secrets Manager call', async () => {
    const payload = shopPush(['deploy/a.yaml'], {
      repository: { clone_url: 'https://github.com/acme/cached.git' },
    });
    assert.equal((await deliver(githubDelivery(payload, { secret: CACHED_SECRET }))).status, 202);
    // Secrets Manager now holds another value; the handler still verifies with the one it read.
    await secretsManager.send(
      new PutSecretValueCommand({ SecretId: secretNames.cached, SecretString: randomUUID() }),
    );
    assert.equal((await deliver(githubDelivery(payload, { secret: CACHED_SECRET }))).status, 202);
    assert.equal((await drain()).length, 2);
  });
});

describe('GitHub: redeliveries', () => {
  test('a redelivery is acknowledged and enqueues one job in all', async () => {
    const id = randomUUID();
    const delivery = githubDelivery(shopPush(['config/other.yaml']), { secret: SHOP_SECRET, id });
    const first = await deliver(delivery);
    assert.equal(first.status, 202);
    assert.deepEqual(jobsOf(first), ['shop/staging/app@9a8b7c6']);
    const second = await deliver(delivery);
    assert.deepEqual([second.status, second.body.ignored], [200, 'delivery already handled']);
    assert.equal((await drain()).length, 1);

    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `DELIVERY#github#${id}` }, sk: { S: 'DELIVERY' } },
      }),
    );
    const expiresIn = Number(Item?.expiresAt?.N) - Math.floor(Date.now() / 1000);
    assert.ok(
      Math.abs(expiresIn - 72 * 3600) < 60,
      `the record expires after deliveryRetentionHours (${expiresIn})`,
    );
  });

  test('a redelivery hours later (past the queue deduplication window) is not enqueued', async () => {
    const id = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    // The record the first delivery left, three hours ago.
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: `DELIVERY#github#${id}` },
          sk: { S: 'DELIVERY' },
          receivedAt: { N: String(now - 3 * 3600) },
          expiresAt: { N: String(now + 69 * 3600) },
        },
      }),
    );
    const answer = await deliver(githubDelivery(shopPush(['deploy/a.yaml']), { secret: SHOP_SECRET, id }));
    assert.deepEqual([answer.status, answer.body.ignored], [200, 'delivery already handled']);
    assert.deepEqual(await drain(), []);

    // An expired record that TTL has not deleted yet does not count.
    const late = randomUUID();
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: `DELIVERY#github#${late}` },
          sk: { S: 'DELIVERY' },
          receivedAt: { N: String(now - 80 * 3600) },
          expiresAt: { N: String(now - 8 * 3600) },
        },
      }),
    );
    const again = await deliver(
      githubDelivery(shopPush(['deploy/a.yaml']), { secret: SHOP_SECRET, id: late }),
    );
    assert.equal(again.status, 202);
    assert.equal((await drain()).length, 2);
  });
});

describe('GitHub: triggers', () => {
  test('one push matching two environments enqueues two jobs in two groups; a suspended one none', async () => {
    const answer = await deliver(githubDelivery(shopPush(['deploy/app.yaml']), { secret: SHOP_SECRET }));
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.skipped, [{ app: 'shop', environment: 'paused', reason: 'suspended' }]);
    const jobs = await drain();
    assert.deepEqual(jobs.map((j) => j.groupId).sort(), ['shop/qa/app', 'shop/staging/app']);
    assert.deepEqual(jobs.map((j) => j.body.environment).sort(), ['qa', 'staging']);
  });

  test("a change under an environment's config path also enqueues its config part", async () => {
    const answer = await deliver(
      githubDelivery(shopPush(['config/staging/ingress.yaml']), { secret: SHOP_SECRET }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['shop/staging/app@9a8b7c6', 'shop/staging/config@9a8b7c6']);
    const jobs = await drain();
    assert.deepEqual(jobs.map((j) => `${j.groupId}:${j.body.part}`).sort(), [
      'shop/staging/app:app',
      'shop/staging/config:config',
    ]);
  });

  test('a truncated commit list (2048 commits) counts as touching every path', async () => {
    const commit = (i: number) => ({
      id: i.toString(16).padStart(40, '0'),
      message: `commit ${i}`,
      added: [],
      removed: [],
      modified: ['README.md'],
    });
    const full = shopPush([], { commits: Array.from({ length: 2047 }, (_, i) => commit(i + 1)) });
    const complete = await deliver(githubDelivery(full, { secret: SHOP_SECRET }));
    assert.deepEqual(jobsOf(complete), ['shop/staging/app@9a8b7c6'], 'README.md is outside qa paths');
    const truncated = shopPush([], { commits: Array.from({ length: 2048 }, (_, i) => commit(i + 1)) });
    const answer = await deliver(githubDelivery(truncated, { secret: SHOP_SECRET }));
    assert.deepEqual(jobsOf(answer), [
      'shop/staging/app@9a8b7c6',
      'shop/staging/config@9a8b7c6',
      'shop/qa/app@9a8b7c6',
    ]);
    assert.equal((await drain()).length, 4);
  });

  test('a tag deploys production only; an unmatched branch is acknowledged and ignored', async () => {
    const tag = shopPush([], {
      ref: 'refs/tags/v1.4.0',
      before: '0000000000000000000000000000000000000000',
      created: true,
      commits: [],
    });
    const answer = await deliver(githubDelivery(tag, { secret: SHOP_SECRET }));
    assert.deepEqual(jobsOf(answer), ['shop/production/app@9a8b7c6']);
    const branch = await deliver(
      githubDelivery(shopPush(['deploy/a.yaml'], { ref: 'refs/heads/feature/x' }), { secret: SHOP_SECRET }),
    );
    assert.deepEqual(
      [branch.status, branch.body.ignored],
      [200, 'no environment is triggered by refs/heads/feature/x'],
    );
    assert.equal((await drain()).length, 1);
  });
});

describe('GitHub: other events and refusals', () => {
  test('ping gets 200; other events are verified and ignored', async () => {
    const ping = {
      zen: 'Design for failure.',
      hook_id: 1,
      repository: { clone_url: 'https://github.com/acme/shop.git' },
    };
    const pong = await deliver(githubDelivery(ping, { secret: SHOP_SECRET, event: 'ping' }));
    assert.deepEqual([pong.status, pong.body.ignored], [200, 'ping: the hook is set up']);
    assert.equal((await deliver(githubDelivery(ping, { secret: 'wrong', event: 'ping' }))).status, 401);
    const issue = await deliver(
      githubDelivery({ ...ping, action: 'opened' }, { secret: SHOP_SECRET, event: 'issues' }),
    );
    assert.deepEqual([issue.status, issue.body.ignored], [200, 'event "issues" is not handled']);
    // An organization hook's ping names no repository: acknowledged.
    const orgPing = await deliver(
      githubDelivery(
        { zen: 'Keep it logically awesome.', hook_id: 2, organization: { login: 'acme' } },
        {
          secret: 'unknown',
          event: 'ping',
        },
      ),
    );
    assert.equal(orgPing.status, 200);
    assert.deepEqual(await drain(), []);
  });

  test('an unknown repository gets 202 and is ignored', async () => {
    const payload = shopPush(['deploy/a.yaml'], {
      repository: { clone_url: 'https://github.com/someone/else.git' },
    });
    const answer = await deliver(githubDelivery(payload, { secret: 'whatever' }));
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.jobs, []);
    assert.match(answer.body.ignored ?? '', /no github repository configured for github.com\/someone\/else/);
    assert.deepEqual(await drain(), []);
  });

  test('400 for a malformed authentic body, 413 over the limit, 415 for another content type', async () => {
    const malformed = await deliver(githubDelivery('{"ref": ', { secret: SHOP_SECRET }));
    assert.equal(malformed.status, 400);
    const notPush = await deliver(githubDelivery(shopPush([], { after: 'HEAD' }), { secret: SHOP_SECRET }));
    assert.deepEqual(
      [notPush.status, notPush.body.error],
      [400, 'malformed push: "after" is not a Git object id'],
    );

    const huge = shopPush(['deploy/a.yaml'], { padding: 'x'.repeat(1024 * 1024) });
    const tooLarge = await deliver(githubDelivery(huge, { secret: SHOP_SECRET }));
    assert.equal(tooLarge.status, 413);

    const text = githubDelivery(shopPush(['deploy/a.yaml']), { secret: SHOP_SECRET });
    const unsupported = await deliver({
      ...text,
      headers: { ...text.headers, 'Content-Type': 'text/plain' },
    });
    assert.equal(unsupported.status, 415);

    const unknownHost = await deliver({ headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(unknownHost.status, 400);
    assert.deepEqual(await drain(), []);
  });
});

describe('GitLab: pushes', () => {
  test('a push with X-Gitlab-Token deploys the environments whose paths it touches', async () => {
    const id = randomUUID();
    const answer = await deliver(
      gitlabDelivery(webhookFixture('gitlab-push.json'), { token: GITLAB_TOKEN, id }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['platform/staging/app@da15608']);
    assert.deepEqual(answer.body.skipped, [
      { app: 'platform', environment: 'docs', reason: 'no changed path matches trigger.paths' },
    ]);
    const [job] = await drain();
    assert.deepEqual(job?.body.trigger, { kind: 'push', deliveryId: id, provider: 'gitlab' });
  });

  test('a push with token and Standard Webhooks signature', async () => {
    const answer = await deliver(
      gitlabDelivery(webhookFixture('gitlab-push.json'), {
        token: GITLAB_TOKEN,
        signingToken: GITLAB_SIGNING_TOKEN,
      }),
    );
    assert.equal(answer.status, 202);
    assert.equal((await drain()).length, 1);
  });

  test('a tag push deploys the tagged commit', async () => {
    const answer = await deliver(
      gitlabDelivery(webhookFixture('gitlab-tag-push.json'), { token: GITLAB_TOKEN }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.jobs, [
      {
        app: 'platform',
        environment: 'production',
        part: 'app',
        ref: 'refs/tags/v1.4.0',
        commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        group: 'platform/production/app',
      },
    ]);
    assert.equal((await drain()).length, 1);
  });
});

describe('GitLab: deletions, truncated lists and refusals', () => {
  test('a branch deletion is acknowledged and ignored', async () => {
    const answer = await deliver(
      gitlabDelivery(webhookFixture('gitlab-branch-deletion.json'), { token: GITLAB_TOKEN }),
    );
    assert.deepEqual([answer.status, answer.body.ignored], [200, 'branch deletion']);
    assert.deepEqual(await drain(), []);
  });

  test('a truncated commit list (more than 20 commits) counts as touching every path', async () => {
    const payload = { ...webhookFixture('gitlab-push.json'), total_commits_count: 45 };
    const answer = await deliver(gitlabDelivery(payload, { token: GITLAB_TOKEN }));
    assert.deepEqual(jobsOf(answer), ['platform/staging/app@da15608', 'platform/docs/app@da15608']);
    assert.equal((await drain()).length, 2);
  });

  test('a wrong or missing token, a bad signature and a stale signing timestamp get 401', async () => {
    const payload = webhookFixture('gitlab-push.json');
    const wrong = await deliver(gitlabDelivery(payload, { token: 'guess' }));
    assert.deepEqual([wrong.status, wrong.body.error], [401, 'X-Gitlab-Token does not match']);
    const missing = await deliver(gitlabDelivery(payload, {}));
    assert.deepEqual([missing.status, missing.body.error], [401, 'missing X-Gitlab-Token']);
    const otherKey = await deliver(
      gitlabDelivery(payload, { token: GITLAB_TOKEN, signingToken: signingToken() }),
    );
    assert.deepEqual([otherKey.status, otherKey.body.error], [401, 'webhook-signature does not match']);
    const stale = await deliver(
      gitlabDelivery(payload, {
        token: GITLAB_TOKEN,
        signingToken: GITLAB_SIGNING_TOKEN,
        timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
      }),
    );
    assert.deepEqual(
      [stale.status, stale.body.error],
      [401, 'webhook-timestamp is more than 5 minutes away from now'],
    );
    assert.deepEqual(await drain(), []);
  });
});

describe('Gitea', () => {
  test('a push (with GitHub headers too) is read as Gitea and deploys', async () => {
    const id = randomUUID();
    const answer = await deliver(
      giteaDelivery(webhookFixture('gitea-push.json'), { secret: GITEA_SECRET, id }),
    );
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['infra/staging/app@7c1d9e0']);
    const [job] = await drain();
    assert.deepEqual(job?.body.trigger, { kind: 'push', deliveryId: id, provider: 'gitea' });
  });

  test('a form delivery is verified over its JSON payload, as Gitea signs it', async () => {
    const json = JSON.stringify(webhookFixture('gitea-push.json'));
    const delivery = giteaDelivery(webhookFixture('gitea-push.json'), { secret: GITEA_SECRET });
    const form = {
      headers: { ...delivery.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams({ payload: json }).toString()).toString('base64'),
      isBase64Encoded: true,
    };
    const answer = await deliver(form);
    assert.equal(answer.status, 202);
    assert.deepEqual(jobsOf(answer), ['infra/staging/app@7c1d9e0']);
    assert.equal((await drain()).length, 1);
  });

  test('a wrong signature gets 401', async () => {
    const answer = await deliver(giteaDelivery(webhookFixture('gitea-push.json'), { secret: 'wrong' }));
    assert.deepEqual([answer.status, answer.body.error], [401, 'X-Gitea-Signature does not match']);
    assert.deepEqual(await drain(), []);
  });
});

describe('logs', () => {
  test('structured, with the delivery id, never a secret, a token or a signature', async () => {
    const id = randomUUID();
    const delivery = githubDelivery(shopPush(['deploy/a.yaml']), { secret: SHOP_SECRET, id });
    await deliver(delivery);
    await drain();
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const entry = entries.find((e) => e.deliveryId === id);
    assert.equal(entry?.message, 'jobs enqueued');
    assert.equal(entry?.level, 'INFO');
    assert.ok(
      entries.some((e) => e.level === 'WARN' && e.status === 401),
      'refusals are logged',
    );
    const all = logLines.join('\n');
    for (const secret of [
      SHOP_SECRET,
      GITLAB_TOKEN,
      GITLAB_SIGNING_TOKEN.slice(6),
      GITEA_SECRET,
      ROTATION.old,
      CACHED_SECRET,
      String(delivery.headers['X-Hub-Signature-256']),
    ]) {
      assert.ok(!all.includes(secret), 'a secret or signature was logged');
    }
  });
});
