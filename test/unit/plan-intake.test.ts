// Pull request deliveries of every host through the real intake, signed as each host signs them, with in-process
// ports: which parts get a plan job (their message group, the head they follow), which events plan nothing and
// say why, and that plan jobs are verified, deduplicated and answered as pushes are.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { createIntake } from '../../functions/core/intake/intake.ts';
import type { WebhookRequest } from '../../functions/core/intake/request.ts';
import type { CommitStatus } from '../../functions/core/model/feedback.ts';
import { jobGroup, parseDeployJob } from '../../functions/core/model/job.ts';
import {
  bitbucketDelivery,
  type Delivery,
  giteaDelivery,
  githubDelivery,
  gitlabDelivery,
  MapSecretSource,
  MemoryDeliveryLog,
  MemoryJobQueue,
  type Payload,
  webhookFixture,
} from '../support/webhooks.ts';

const SECRET = 'plan-hook-secret';
const GITHUB_URL = 'https://github.com/Codertocat/Hello-World.git';

/** Every host's repository, one app each, in a staging (main), a production (tags) and a follower environment. */
function configFor(extra: Partial<ConfigInput> = {}, paths = ['deploy/**']) {
  const repositories = [
    { name: 'hello', url: GITHUB_URL, provider: 'github' },
    { name: 'platform', url: 'https://gitlab.example.com/acme/platform.git', provider: 'gitlab' },
    { name: 'infra', url: 'https://gitea.example.com/acme/infra.git', provider: 'gitea' },
    { name: 'shop', url: 'https://bitbucket.org/acme/shop.git', provider: 'bitbucket' },
    { name: 'store', url: 'https://bitbucket.example.com/scm/acme/shop.git', provider: 'bitbucket-server' },
  ] as const;
  return parseConfig({
    repositories: repositories.map((r) => ({ ...r, webhookSecret: 'hook' })),
    clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
    apps: repositories.map((r) => ({
      name: r.name,
      repository: r.name,
      path: 'deploy',
      environments: [
        {
          name: 'staging',
          cluster: 'main',
          namespace: r.name,
          trigger: { branches: ['main', 'master'], paths },
          config: { path: 'config/staging' },
        },
        {
          name: 'qa',
          cluster: 'main',
          namespace: `${r.name}-qa`,
          trigger: { branches: ['master'] },
          suspend: true,
        },
        { name: 'production', cluster: 'main', namespace: `${r.name}-prod`, trigger: { tags: ['v*'] } },
        {
          name: 'mirror',
          cluster: 'main',
          namespace: `${r.name}-mirror`,
          follow: { environment: 'staging' },
        },
      ],
    })),
    ...extra,
  } satisfies ConfigInput);
}

function request(delivery: Delivery): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) headers[name.toLowerCase()] = value;
  return { headers, body: Buffer.from(delivery.body, 'utf8') };
}

function setUp(config = configFor()) {
  const queue = new MemoryJobQueue();
  const statuses: CommitStatus[] = [];
  const intake = createIntake({
    config,
    queue,
    deliveries: new MemoryDeliveryLog(),
    secrets: new MapSecretSource({ hook: SECRET }),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    feedback: { status: (status) => statuses.push(status), changed: () => undefined },
    now: () => new Date('2026-11-30T12:00:00Z'),
  });
  return { intake, queue, statuses };
}

/** The pull_request examples GitHub's webhooks documentation ships, by action. */
function githubExample(action: string, draft = false): Payload {
  const root = dirname(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/package.json'));
  const definitions = JSON.parse(readFileSync(join(root, 'api.github.com', 'index.json'), 'utf8')) as {
    name: string;
    examples: Payload[];
  }[];
  const examples = definitions.find((d) => d.name === 'pull_request')?.examples ?? [];
  const found = examples.find(
    (e) => e.action === action && (e.pull_request as { draft: boolean }).draft === draft,
  );
  assert.ok(found, `a pull_request example for ${action}`);
  return structuredClone(found);
}

/** A Gitea delivery of another event than a push: the same headers, the event named as Gitea names it. */
function giteaEvent(payload: Payload, event: string): Delivery {
  const delivery = giteaDelivery(payload, { secret: SECRET });
  const headers = { ...delivery.headers };
  for (const name of ['X-Gitea-Event', 'X-Gogs-Event', 'X-GitHub-Event']) headers[name] = event;
  headers['X-Gitea-Event-Type'] = event;
  return { ...delivery, headers };
}

/** A GitLab Merge Request Hook, with GitLab's secret token. */
function mergeRequestDelivery(payload: Payload): Delivery {
  const delivery = gitlabDelivery(payload, { token: SECRET });
  return { ...delivery, headers: { ...delivery.headers, 'X-Gitlab-Event': 'Merge Request Hook' } };
}

const jobsOf = (body: Record<string, unknown>) =>
  (body.jobs as { app: string; environment: string; part: string; ref: string; group: string }[]).map(
    (j) => `${j.app}/${j.environment}/${j.part} ${j.ref} ${j.group}`,
  );

describe('a plan job per part of each environment a merge would deploy', () => {
  test("GitHub: opened plans the target branch's environments, not tags, followers or suspended ones", async () => {
    // Without path patterns, the app part is planned whatever the pull request changes: pending at once.
    const { intake, queue, statuses } = setUp(configFor({}, []));
    const payload = githubExample('opened');
    const pull = payload.pull_request as { head: { sha: string } };
    const id = randomUUID();
    const response = await intake(
      request(githubDelivery(payload, { secret: SECRET, event: 'pull_request', id })),
    );
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.deepEqual(jobsOf(response.body), [
      'hello/staging/app refs/pull/2/head plan/hello/2',
      'hello/staging/config refs/pull/2/head plan/hello/2',
    ]);
    assert.deepEqual(response.body.skipped, [{ app: 'hello', environment: 'qa', reason: 'suspended' }]);
    const [job] = queue.jobs;
    assert.deepEqual(job?.trigger, {
      kind: 'plan',
      deliveryId: id,
      provider: 'github',
      pullRequest: { repository: 'hello', number: 2, base: 'refs/heads/master', fork: false },
    });
    assert.equal(job?.commit, pull.head.sha);
    // The job survives the queue: its message parses back to itself.
    assert.deepEqual(parseDeployJob(JSON.stringify(job)), job);
    assert.equal(jobGroup(job as NonNullable<typeof job>), 'plan/hello/2');
    // The config part is planned only if the pull request's files touch config.path: marked once known.
    assert.deepEqual(
      statuses.map((s) => [s.key.part, s.commit, s.state, s.description, s.subject]),
      [['app', pull.head.sha, 'pending', 'plan queued', 'plan']],
    );
  });

  test('GitHub: synchronize, reopened and ready_for_review plan; a redelivery is answered and not enqueued', async () => {
    const { intake, queue } = setUp();
    for (const action of ['synchronize', 'reopened', 'ready_for_review']) {
      const response = await intake(
        request(githubDelivery(githubExample(action), { secret: SECRET, event: 'pull_request' })),
      );
      assert.equal(response.status, 202, action);
    }
    assert.equal(queue.jobs.length, 6);
    const id = randomUUID();
    const delivery = githubDelivery(githubExample('synchronize'), {
      secret: SECRET,
      event: 'pull_request',
      id,
    });
    assert.equal((await intake(request(delivery))).status, 202);
    const again = await intake(request(delivery));
    assert.equal(again.status, 200);
    assert.equal(again.body.ignored, 'delivery already handled');
    assert.equal(queue.jobs.length, 8);
  });

  test('GitLab: open, reopen and an update that brings commits; the head under refs/merge-requests', async () => {
    const { intake, queue, statuses } = setUp();
    const open = webhookFixture('gitlab-merge-request.json');
    const response = await intake(request(mergeRequestDelivery(open)));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.deepEqual(jobsOf(response.body), [
      'platform/staging/app refs/merge-requests/7/head plan/platform/7',
      'platform/staging/config refs/merge-requests/7/head plan/platform/7',
    ]);
    assert.equal(queue.jobs[0]?.commit, 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
    assert.deepEqual(statuses, [], 'path patterns: no status until the plan reads the changed files');
    const attributes = open.object_attributes as Payload;
    const update = {
      ...open,
      object_attributes: { ...attributes, action: 'update', oldrev: 'a'.repeat(40) },
    };
    assert.equal((await intake(request(mergeRequestDelivery(update)))).status, 202);
    const reopen = { ...open, object_attributes: { ...attributes, action: 'reopen' } };
    assert.equal((await intake(request(mergeRequestDelivery(reopen)))).status, 202);
    assert.equal(queue.jobs.length, 6);
  });

  test('Gitea: opened and synchronized, the head under refs/pull', async () => {
    const { intake, queue } = setUp();
    const payload = webhookFixture('gitea-pull-request.json');
    const response = await intake(request(giteaEvent(payload, 'pull_request')));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.deepEqual(jobsOf(response.body), [
      'infra/staging/app refs/pull/3/head plan/infra/3',
      'infra/staging/config refs/pull/3/head plan/infra/3',
    ]);
    const synchronized = await intake(
      request(giteaEvent({ ...payload, action: 'synchronized' }, 'pull_request')),
    );
    assert.equal(synchronized.status, 202);
    assert.equal(queue.jobs[0]?.commit, '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6');
  });

  test('Bitbucket Cloud: the source branch is followed, its abbreviated head read when the plan runs', async () => {
    const { intake, queue, statuses } = setUp();
    const delivery = bitbucketDelivery(webhookFixture('bitbucket-pull-request.json'), {
      secret: SECRET,
      event: 'pullrequest:created',
    });
    const response = await intake(request(delivery));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.deepEqual(jobsOf(response.body), [
      'shop/staging/app refs/heads/change plan/shop/12',
      'shop/staging/config refs/heads/change plan/shop/12',
    ]);
    assert.equal(queue.jobs[0]?.commit, '0'.repeat(40));
    assert.deepEqual(statuses, [], 'no commit to mark until the head is read');
  });

  test('Bitbucket Data Center: pr:opened and pr:from_ref_updated, the head under refs/pull-requests', async () => {
    const { intake } = setUp();
    const payload = webhookFixture('bitbucket-server-pull-request.json');
    for (const event of ['pr:opened', 'pr:from_ref_updated']) {
      const response = await intake(
        request(bitbucketDelivery(payload, { server: true, secret: SECRET, event })),
      );
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.deepEqual(jobsOf(response.body), [
        'store/staging/app refs/pull-requests/4/from plan/store/4',
        'store/staging/config refs/pull-requests/4/from plan/store/4',
      ]);
    }
  });
});

describe('events that plan nothing are acknowledged with 200 and the reason', () => {
  const cases: [string, () => Delivery, RegExp][] = [
    [
      'GitHub closed (merged)',
      () => {
        const payload = githubExample('closed');
        (payload.pull_request as Payload).merged = true;
        return githubDelivery(payload, { secret: SECRET, event: 'pull_request' });
      },
      /pull request merged: nothing to plan/,
    ],
    [
      'GitHub converted_to_draft',
      () =>
        githubDelivery(githubExample('converted_to_draft', true), { secret: SECRET, event: 'pull_request' }),
      /converted_to_draft: nothing to plan/,
    ],
    [
      'GitHub opened as a draft',
      () => {
        const payload = githubExample('opened');
        (payload.pull_request as Payload).draft = true;
        return githubDelivery(payload, { secret: SECRET, event: 'pull_request' });
      },
      /a draft: planned once it is marked ready for review/,
    ],
    [
      'GitHub labeled',
      () => githubDelivery(githubExample('labeled'), { secret: SECRET, event: 'pull_request' }),
      /labeled: nothing to plan/,
    ],
    [
      'GitLab update without new commits',
      () => {
        const open = webhookFixture('gitlab-merge-request.json');
        const attributes = { ...(open.object_attributes as Payload), action: 'update' };
        return mergeRequestDelivery({ ...open, object_attributes: attributes });
      },
      /changed, not its commits/,
    ],
    [
      'GitLab merge',
      () => {
        const open = webhookFixture('gitlab-merge-request.json');
        const attributes = { ...(open.object_attributes as Payload), action: 'merge' };
        return mergeRequestDelivery({ ...open, object_attributes: attributes });
      },
      /merge: nothing to plan/,
    ],
    [
      'Gitea closed',
      () => giteaEvent({ ...webhookFixture('gitea-pull-request.json'), action: 'closed' }, 'pull_request'),
      /closed: nothing to plan/,
    ],
    [
      'Gitea label_updated',
      () =>
        giteaEvent({ ...webhookFixture('gitea-pull-request.json'), action: 'label_updated' }, 'pull_request'),
      /label_updated: nothing to plan/,
    ],
    [
      'Bitbucket Cloud fulfilled (merged)',
      () =>
        bitbucketDelivery(webhookFixture('bitbucket-pull-request.json'), {
          secret: SECRET,
          event: 'pullrequest:fulfilled',
        }),
      /merged: nothing to plan/,
    ],
    [
      'Bitbucket Data Center declined',
      () =>
        bitbucketDelivery(webhookFixture('bitbucket-server-pull-request.json'), {
          server: true,
          secret: SECRET,
          event: 'pr:declined',
        }),
      /declined: nothing to plan/,
    ],
  ];
  for (const [name, delivery, reason] of cases) {
    test(name, async () => {
      const { intake, queue } = setUp();
      const response = await intake(request(delivery()));
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.match(String(response.body.ignored), reason);
      assert.equal(queue.jobs.length, 0);
    });
  }

  test('a pull request into a branch no environment follows', async () => {
    const { intake, queue } = setUp();
    const payload = githubExample('opened');
    (payload.pull_request as { base: { ref: string } }).base.ref = 'release/1.4';
    const response = await intake(
      request(githubDelivery(payload, { secret: SECRET, event: 'pull_request' })),
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.ignored, 'no environment follows release/1.4');
    assert.equal(queue.jobs.length, 0);
  });
});

describe('forks and authenticity', () => {
  const fork = () => {
    const payload = githubExample('opened');
    const head = (payload.pull_request as { head: { repo: { full_name: string } } }).head;
    head.repo = { ...head.repo, full_name: 'mallory/Hello-World' };
    return payload;
  };

  test('a fork is not planned unless plan.forks is on', async () => {
    const off = setUp();
    const refused = await off.intake(
      request(githubDelivery(fork(), { secret: SECRET, event: 'pull_request' })),
    );
    assert.equal(refused.status, 200);
    assert.match(String(refused.body.ignored), /in a fork, and plan.forks is off/);
    assert.equal(off.queue.jobs.length, 0);
    const on = setUp(configFor({ plan: { forks: true } }));
    const planned = await on.intake(
      request(githubDelivery(fork(), { secret: SECRET, event: 'pull_request' })),
    );
    assert.equal(planned.status, 202);
    assert.equal(
      on.queue.jobs[0]?.trigger.kind === 'plan' && on.queue.jobs[0].trigger.pullRequest.fork,
      true,
    );
  });

  test('a Bitbucket Cloud fork cannot be planned: its head is in another repository', async () => {
    const { intake, queue } = setUp(configFor({ plan: { forks: true } }));
    const payload = webhookFixture('bitbucket-pull-request.json');
    const source = (payload.pullrequest as { source: { repository: Payload } }).source;
    source.repository = { ...source.repository, full_name: 'mallory/shop' };
    const response = await intake(
      request(bitbucketDelivery(payload, { secret: SECRET, event: 'pullrequest:updated' })),
    );
    assert.equal(response.status, 200);
    assert.match(String(response.body.ignored), /keeps no ref/);
    assert.equal(queue.jobs.length, 0);
  });

  test('a wrong signature is refused, a malformed pull request named, before anything is enqueued', async () => {
    const { intake, queue } = setUp();
    const forged = await intake(
      request(githubDelivery(githubExample('opened'), { secret: 'not-the-secret', event: 'pull_request' })),
    );
    assert.equal(forged.status, 401);
    const payload = githubExample('opened');
    (payload.pull_request as { head: { sha: string } }).head.sha = 'main';
    const malformed = await intake(
      request(githubDelivery(payload, { secret: SECRET, event: 'pull_request' })),
    );
    assert.equal(malformed.status, 400);
    assert.match(
      String(malformed.body.error),
      /malformed pull request: "pull_request.head.sha" is not a Git object id/,
    );
    assert.equal(queue.jobs.length, 0);
  });
});
