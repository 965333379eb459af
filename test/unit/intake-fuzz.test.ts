// Properties of the intake over random deliveries, with ports that work (in-process): whatever the headers and
// the body, a delivery without the secret never gets jobs, and no delivery, signed or not, gets a 5xx. Signed
// deliveries of arbitrary payloads only ever enqueue well-formed jobs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { createIntake } from '../../functions/core/intake/intake.ts';
import { MAX_REF_LENGTH } from '../../functions/core/intake/normalise.ts';
import type { WebhookRequest } from '../../functions/core/intake/request.ts';
import { COMMIT_ID } from '../../functions/core/model/commit.ts';
import {
  bitbucketDelivery,
  type Delivery,
  giteaDelivery,
  githubDelivery,
  githubPush,
  gitlabDelivery,
  MapSecretSource,
  MemoryDeliveryLog,
  MemoryJobQueue,
  type Payload,
  signingToken,
  webhookFixture,
} from '../support/webhooks.ts';

const SECRET = randomUUID();
const GITLAB = { token: randomUUID(), signingToken: signingToken() };

const repositories = [
  ['shop', 'https://github.com/acme/shop.git', 'github'],
  ['platform', 'https://gitlab.example.com/acme/platform.git', 'gitlab'],
  ['infra', 'https://gitea.example.com/acme/infra.git', 'gitea'],
  ['storefront', 'https://bitbucket.org/acme/storefront.git', 'bitbucket'],
  ['payments', 'https://bitbucket.example.com/scm/acme/payments.git', 'bitbucket-server'],
] as const;

const config = parseConfig({
  repositories: repositories.map(([name, url, provider]) => ({ name, url, provider, webhookSecret: name })),
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: repositories.map(([name]) => ({
    name,
    repository: name,
    path: 'deploy',
    environments: [
      { name: 'staging', cluster: 'main', namespace: name, trigger: { branches: ['main', '*'] } },
      {
        name: 'production',
        cluster: 'main',
        namespace: name,
        trigger: { tags: ['v*'] },
        config: { path: 'config' },
      },
    ],
  })),
} satisfies ConfigInput);

function setUp() {
  const queue = new MemoryJobQueue();
  const log = () => undefined;
  const intake = createIntake({
    config,
    queue,
    deliveries: new MemoryDeliveryLog(),
    secrets: new MapSecretSource({
      shop: SECRET,
      platform: JSON.stringify([GITLAB.token, GITLAB.signingToken]),
      infra: SECRET,
      storefront: SECRET,
      payments: SECRET,
    }),
    logger: { info: log, warn: log, error: log },
  });
  return { intake, queue };
}

function request(delivery: Delivery): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) headers[name.toLowerCase()] = value;
  return { headers, body: Buffer.from(delivery.body, delivery.isBase64Encoded ? 'base64' : 'utf8') };
}

/** A push of each host, as it sends it. */
const pushes: Record<string, () => Payload> = {
  github: () => githubPush({ url: 'https://github.com/acme/shop.git' }),
  gitlab: () => webhookFixture('gitlab-push.json'),
  gitea: () => webhookFixture('gitea-push.json'),
  bitbucket: () => webhookFixture('bitbucket-push.json'),
  'bitbucket-server': () => webhookFixture('bitbucket-server-push.json'),
};

/** A host's push with some of its fields (and nested fields) replaced by arbitrary JSON. */
const mutatedPush = fc
  .tuple(
    fc.constantFrom(...Object.keys(pushes)),
    fc.array(
      fc.tuple(
        fc.constantFrom(
          'ref',
          'before',
          'after',
          'commits',
          'head_commit',
          'checkout_sha',
          'repository',
          'project',
          'push',
          'changes',
          'total_commits',
          'created',
          'deleted',
          'forced',
        ),
        fc.jsonValue({ maxDepth: 4 }),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([host, replacements]) => {
    const payload = pushes[host]?.() ?? {};
    for (const [key, value] of replacements) payload[key] = value;
    return { host, payload };
  });

/** Header names the hosts send; values are arbitrary. */
const headerNames = [
  'x-github-event',
  'x-github-delivery',
  'x-hub-signature-256',
  'x-hub-signature',
  'x-gitlab-event',
  'x-gitlab-token',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-gitea-event',
  'x-gitea-signature',
  'x-forgejo-event',
  'x-event-key',
  'x-request-uuid',
  'x-hook-uuid',
  'x-request-id',
];

const headerValue = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'push',
    'ping',
    'Push Hook',
    'Tag Push Hook',
    'repo:push',
    'repo:refs_changed',
    'diagnostics:ping',
  ),
  fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
  fc.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
  fc.integer({ min: 0, max: 2 ** 31 }).map(String),
);

const forgedHeaders = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...headerNames), headerValue, { maxKeys: 8 }),
    fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json; charset=UTF-8',
    ),
  )
  .map(([headers, contentType]) => ({ ...headers, 'content-type': contentType }));

const forgedBody = fc.oneof(
  mutatedPush.map(({ payload }) => JSON.stringify(payload)),
  mutatedPush.map(({ payload }) => `payload=${encodeURIComponent(JSON.stringify(payload))}`),
  fc.json(),
  fc.string(),
  fc.constantFrom('', 'payload=', 'payload=&x=1', '{}', '[]', 'null'),
);

/** A delivery signed with the right secret, its body any push shape. */
const signedDelivery = mutatedPush.map(({ host, payload }): Delivery => {
  if (host === 'github') return githubDelivery(payload, { secret: SECRET });
  if (host === 'gitlab') return gitlabDelivery(payload, GITLAB);
  if (host === 'gitea') return giteaDelivery(payload, { secret: SECRET });
  return bitbucketDelivery(payload, { secret: SECRET, server: host === 'bitbucket-server' });
});

describe('intake properties', () => {
  test('a delivery without the secret never gets jobs, and never a 5xx', async () => {
    const { intake, queue } = setUp();
    await fc.assert(
      fc.asyncProperty(forgedHeaders, forgedBody, async (headers, body) => {
        const answer = await intake({ headers, body });
        assert.ok(answer.status < 500, `answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        assert.deepEqual(answer.body.jobs ?? [], []);
        assert.equal(queue.jobs.length, 0);
      }),
      { numRuns: 1500 },
    );
  });

  test('a signed delivery of any push shape never gets a 5xx, and enqueues only well-formed jobs', async () => {
    const { intake, queue } = setUp();
    await fc.assert(
      fc.asyncProperty(signedDelivery, async (delivery) => {
        queue.jobs.length = 0;
        const answer = await intake(request(delivery));
        assert.ok(answer.status < 500, `answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        if (answer.status !== 202) assert.equal(queue.jobs.length, 0);
        for (const job of queue.jobs) {
          assert.match(job.commit, COMMIT_ID);
          assert.ok(job.ref.startsWith('refs/') && job.ref.length <= MAX_REF_LENGTH, job.ref);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
