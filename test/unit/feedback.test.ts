// What Ferry tells a commit (contexts, one-line descriptions, the statuses a deployment leaves) and how the
// core's Feedback posts them: beside the work, retried when the host may answer later, never thrown, settled in
// bounded time. Posts go through the real Gitea reporter to a loopback host that answers as the test says.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { GiteaReporter } from '../../functions/adapters/status/gitea.ts';
import { parseConfig } from '../../functions/core/config.ts';
import type { FailureClass } from '../../functions/core/errors.ts';
import { Feedback, type FeedbackDependencies } from '../../functions/core/feedback/feedback.ts';
import {
  type CommitStatus,
  DESCRIPTION_LENGTH,
  oneLine,
  statusContext,
  statusesOf,
} from '../../functions/core/model/feedback.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import {
  closedPort,
  type RecordingHost,
  type ScriptedAnswer,
  startRecordingHost,
} from '../support/status-contract.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const key = { app: 'shop', environment: 'staging', part: 'app' } as const;

function record(overrides: Partial<DeploymentRecord>): DeploymentRecord {
  return {
    id: 'dep-1',
    jobId: 'job-1',
    key,
    commit: A,
    ref: 'refs/heads/main',
    trigger: { kind: 'push', deliveryId: 'd', provider: 'gitea' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:04.200Z',
    result: 'succeeded',
    message: '',
    objects: [],
    ...overrides,
  };
}

describe('the status model', () => {
  test('a context per part: ferry/<app>/<environment>, /config for the configuration', () => {
    assert.equal(statusContext(key), 'ferry/shop/staging');
    assert.equal(statusContext({ ...key, part: 'config' }), 'ferry/shop/staging/config');
  });

  test('one line of at most 140 characters', () => {
    assert.equal(oneLine('  first\n   second  \nthird '), 'first; second; third');
    const cut = oneLine('x'.repeat(500));
    assert.equal(cut.length, DESCRIPTION_LENGTH);
    assert.ok(cut.endsWith('…'));
    assert.equal(oneLine('y'.repeat(140)), 'y'.repeat(140));
  });

  test('a success counts what reached the cluster and how long it took', () => {
    const objects = [
      { object: 'Deployment shop/web', action: 'configured' },
      { object: 'Service shop/web', action: 'created' },
      { object: 'ConfigMap shop/old', action: 'pruned' },
      { object: 'ConfigMap shop/same', action: 'unchanged' },
    ] as const;
    assert.deepEqual(statusesOf(record({ objects }), 4200), [
      {
        key,
        ref: 'refs/heads/main',
        deploymentId: 'dep-1',
        commit: A,
        state: 'success',
        description: '2 applied, 1 pruned, 1 unchanged in 4.2 s',
      },
    ]);
  });

  test('the commit a job named is superseded by the one deployed, which carries the result', () => {
    const statuses = statusesOf(record({ commit: B, requestedCommit: A }), 1000);
    assert.deepEqual(
      statuses.map((s) => [s.commit, s.state, s.description]),
      [
        [A, 'superseded', 'superseded by bbbbbbb'],
        [B, 'success', '0 applied in 1.0 s'],
      ],
    );
  });

  test('failures: a rejection names the first reason; a transient failure is still running; current answers pending', () => {
    const rejected = record({
      result: 'failed',
      failure: 'rejected',
      message: 'the revision was refused',
      objects: [
        { object: 'Deployment shop/web', action: 'failed', message: 'spec.replicas: expected integer' },
      ],
    });
    const of = (r: DeploymentRecord) => statusesOf(r, 0).map((s) => [s.state, s.description]);
    assert.deepEqual(of(rejected), [['failure', 'rejected: spec.replicas: expected integer']]);
    const transient = (failure: FailureClass) =>
      record({ result: 'failed', failure, message: 'cluster down' });
    assert.deepEqual(of(transient('transient')), [['running', 'cluster down']]);
    assert.deepEqual(of(transient('configuration')), [['failure', 'cluster down']]);
    assert.deepEqual(of(record({ result: 'skipped', message: 'a newer commit is queued' })), [
      ['superseded', 'a newer commit is queued'],
    ]);
    assert.deepEqual(
      of(record({ result: 'current', message: 'already at 3f2c1a9aaaaa, the head of refs/heads/main' })),
      [['success', 'already at 3f2c1a9aaaaa, the head of refs/heads/main']],
    );
    assert.deepEqual(of(record({ result: 'duplicate' })), []);
  });
});

const TOKEN = 'gitea-status-token-0123456789';

/** A Feedback over the Gitea reporter, with its config on `host`, its failures collected. */
function feedbackOn(
  url: string,
  options: { statusTokenSecret?: string; tokenSecret?: string; deps?: Partial<FeedbackDependencies> } = {},
) {
  const config = parseConfig({
    repositories: [
      {
        name: 'shop',
        url: `${url}/acme/shop.git`,
        provider: 'gitea',
        webhookSecret: 'ferry/shop/webhook',
        ...(options.tokenSecret === undefined ? {} : { tokenSecret: options.tokenSecret }),
        ...(options.statusTokenSecret === undefined ? {} : { statusTokenSecret: options.statusTokenSecret }),
      },
    ],
    clusters: [{ name: 'laptop', type: 'kubeconfig' }],
    apps: [
      {
        name: 'shop',
        repository: 'shop',
        path: 'deploy',
        environments: [
          { name: 'staging', cluster: 'laptop', namespace: 'shop', trigger: { branches: ['main'] } },
        ],
      },
    ],
  });
  const failures: { what: string; detail: Record<string, unknown> }[] = [];
  const feedback = new Feedback({
    config,
    secrets: new LocalSecretSource({
      env: { FERRY_SECRET_FERRY_SHOP_STATUS: TOKEN, FERRY_SECRET_FERRY_SHOP_GIT: 'git-read-token' },
    }),
    reporters: { gitea: new GiteaReporter({ timeoutMs: 500 }) },
    notifiers: [],
    onFailure: (what, detail) => failures.push({ what, detail }),
    attempts: 3,
    backoffMs: 20,
    ...options.deps,
  });
  return { feedback, failures };
}

const status = (state: CommitStatus['state'] = 'success'): CommitStatus => ({
  key,
  commit: A,
  ref: 'refs/heads/main',
  state,
  description: 'done',
});

const hosts: RecordingHost[] = [];
after(() => Promise.all(hosts.map((h) => h.close())));

async function host(answer: (i: number) => ScriptedAnswer): Promise<RecordingHost> {
  const started = await startRecordingHost((_, i) => answer(i));
  hosts.push(started);
  return started;
}

const created = { status: 201, body: { id: 1, status: 'success' } };

describe('Feedback posts beside the work', () => {
  test('transient answers (503, 429) are tried again with backoff until one lands', async () => {
    const gitea = await host((i) => (i === 0 ? { status: 503 } : i === 1 ? { status: 429 } : created));
    const { feedback, failures } = feedbackOn(gitea.url, { statusTokenSecret: 'ferry/shop/status' });
    feedback.status({ ...status(), targetUrl: 'http://127.0.0.1:8080/status' });
    await feedback.settle(5_000);
    assert.equal(gitea.requests.length, 3);
    assert.deepEqual(failures, []);
    const [request] = gitea.requests;
    assert.equal(request?.path, `/api/v1/repos/acme/shop/statuses/${A}`);
    assert.equal(request?.headers.authorization, `token ${TOKEN}`);
    assert.deepEqual(request?.body, {
      state: 'success',
      context: 'ferry/shop/staging',
      description: 'done',
      target_url: 'http://127.0.0.1:8080/status',
    });
  });

  test('statuses of one commit and context reach the host in the order told, even when one is retried', async () => {
    const gitea = await host((i) => (i === 0 ? { status: 503 } : created));
    const { feedback, failures } = feedbackOn(gitea.url, { statusTokenSecret: 'ferry/shop/status' });
    feedback.status(status('running'));
    feedback.status(status('failure'));
    await feedback.settle(5_000);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      gitea.requests.map((r) => (r.body as { state: string }).state),
      ['pending', 'pending', 'failure'],
      'the retried running status (pending on Gitea) lands before the result',
    );
  });

  test('a host that keeps failing is tried `attempts` times, then reported once with its answer', async () => {
    const gitea = await host(() => ({ status: 500, body: { message: 'database is locked' } }));
    const { feedback, failures } = feedbackOn(gitea.url, { statusTokenSecret: 'ferry/shop/status' });
    feedback.status(status('pending'));
    await feedback.settle(5_000);
    assert.equal(gitea.requests.length, 3);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.what, 'status');
    assert.deepEqual(
      { ...failures[0]?.detail, error: undefined },
      {
        app: 'shop',
        environment: 'staging',
        part: 'app',
        context: 'ferry/shop/staging',
        commit: A,
        state: 'pending',
        error: undefined,
      },
    );
    assert.match(String(failures[0]?.detail.error), /Gitea answered 500 to POST .*database is locked/);
  });

  test('a refusal (401, 404) is final at once: no retry; the token is never in the report', async () => {
    for (const [answer, expected] of [
      [
        { status: 401, body: { message: `token is invalid: ${TOKEN}` } },
        /answered 401 .*token is invalid: \[token\]/,
      ],
      [{ status: 404, body: { message: 'GetRepositoryByName' } }, /answered 404 /],
    ] as const) {
      const gitea = await host(() => answer);
      const { feedback, failures } = feedbackOn(gitea.url, { statusTokenSecret: 'ferry/shop/status' });
      feedback.status(status());
      await feedback.settle(5_000);
      assert.equal(gitea.requests.length, 1);
      assert.equal(failures.length, 1);
      assert.match(String(failures[0]?.detail.error), expected);
      assert.doesNotMatch(JSON.stringify(failures), new RegExp(TOKEN));
    }
  });

  test('a host that is down is tried again, then reported', async () => {
    const { feedback, failures } = feedbackOn(`http://127.0.0.1:${await closedPort()}`, {
      statusTokenSecret: 'ferry/shop/status',
    });
    feedback.status(status());
    await feedback.settle(5_000);
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]?.detail.error), /could not be reached .*ECONNREFUSED/);
  });

  test('telling never waits and never throws; settle waits for the posts, at most its bound', async () => {
    const gitea = await host(() => 'hang');
    const { feedback, failures } = feedbackOn(gitea.url, {
      statusTokenSecret: 'ferry/shop/status',
      deps: { attempts: 1 },
    });
    const told = performance.now();
    feedback.status(status());
    assert.ok(performance.now() - told < 50, 'status() returns at once');
    const settling = performance.now();
    await feedback.settle(100);
    const waited = performance.now() - settling;
    assert.ok(waited >= 90 && waited < 400, `settle gave up after its bound (${waited} ms)`);
    assert.equal(failures.length, 0, 'still in flight');
    // The reporter's own bound ends the post: reported as transient, nothing thrown anywhere.
    await feedback.settle(2_000);
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]?.detail.error), /no answer in 0.5 s/);
  });

  test('the status token is the statusTokenSecret, else the tokenSecret; no token, no post', async () => {
    const gitea = await host(() => created);
    const fallback = feedbackOn(gitea.url, { tokenSecret: 'ferry/shop/git' });
    fallback.feedback.status(status());
    await fallback.feedback.settle(5_000);
    assert.equal(gitea.requests.at(-1)?.headers.authorization, 'token git-read-token');
    const none = feedbackOn(gitea.url);
    none.feedback.status(status());
    await none.feedback.settle(5_000);
    assert.equal(gitea.requests.length, 1);
    assert.deepEqual([...fallback.failures, ...none.failures], []);
  });

  test('a status secret that is not set is reported (configuration), not retried; links come from targetUrl', async () => {
    const gitea = await host(() => created);
    const missing = feedbackOn(gitea.url, { statusTokenSecret: 'ferry/shop/nowhere' });
    missing.feedback.status(status());
    await missing.feedback.settle(5_000);
    assert.equal(gitea.requests.length, 0);
    assert.match(String(missing.failures[0]?.detail.error), /secret "ferry\/shop\/nowhere" is not set/);
    const linked = feedbackOn(gitea.url, {
      statusTokenSecret: 'ferry/shop/status',
      deps: { targetUrl: (s) => `https://logs.example/${s.deploymentId ?? s.commit}` },
    });
    linked.feedback.status({ ...status(), deploymentId: 'dep-9' });
    await linked.feedback.settle(5_000);
    assert.equal(
      (gitea.requests[0]?.body as { target_url?: string } | undefined)?.target_url,
      'https://logs.example/dep-9',
    );
  });

  test('a repository of a host without a reporter, or an unknown app, gets nothing, silently', async () => {
    const gitea = await host(() => created);
    const { feedback, failures } = feedbackOn(gitea.url, {
      statusTokenSecret: 'ferry/shop/status',
      deps: { reporters: {} },
    });
    feedback.status(status());
    feedback.status({ ...status(), key: { ...key, app: 'unknown' } });
    await feedback.settle(1_000);
    assert.equal(gitea.requests.length, 0);
    assert.deepEqual(failures, []);
  });
});
