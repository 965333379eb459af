// A commit status that cannot be posted never fails or delays a deployment: deployments on the test bed (its
// Git server, apiserver and moto) whose statuses go to a host that refuses the token, rate-limits, is down or
// never answers; and the worker Lambda's handler, which settles its posts and counts those that failed.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Context } from 'aws-lambda';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { BitbucketCloudReporter } from '../../functions/adapters/status/bitbucket.ts';
import type { Config } from '../../functions/core/config.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { Feedback } from '../../functions/core/feedback/feedback.ts';
import { partId } from '../../functions/core/model/part.ts';
import { ENV } from '../../functions/names.ts';
import { handler } from '../../functions/worker/handler.ts';
import { createDeployQueue } from '../support/aws.ts';
import { type DeployFixture, deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { messagesEvent } from '../support/sqs-worker.ts';
import {
  closedPort,
  type RecordingHost,
  type ScriptedAnswer,
  startRecordingHost,
} from '../support/status-contract.ts';
import { createNamespaces, testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
const hosts: RecordingHost[] = [];
after(async () => {
  api.close();
  await Promise.all(hosts.map((h) => h.close()));
});

/** The fixture's repository as a Bitbucket Cloud one (its Git server takes the token as Bitbucket's would). */
const asBitbucket = (config: Config): Config => ({
  ...config,
  repositories: config.repositories.map((r) => ({ ...r, provider: 'bitbucket' })),
});

async function fixtureWithCommit(): Promise<{ fixture: DeployFixture; commit: string }> {
  const fixture = await deployFixture();
  await createNamespaces(api, [fixture.namespace]);
  const commit = await fixture.workspace.commit({
    'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })),
  });
  await fixture.workspace.push();
  return { fixture, commit };
}

/** Deploys the fixture's commit with statuses posted to `apiUrl`; the record and the failures reported. */
async function deployReportingTo(apiUrl: string, timeoutMs = 1_000) {
  const { fixture, commit } = await fixtureWithCommit();
  const config = asBitbucket(fixture.deps.config);
  const failures: Record<string, unknown>[] = [];
  const feedback = new Feedback({
    config,
    secrets: fixture.deps.secrets,
    reporters: { bitbucket: new BitbucketCloudReporter({ apiUrl, timeoutMs }) },
    notifiers: [],
    onFailure: (what, detail) => failures.push({ what, ...detail }),
    backoffMs: 100,
  });
  const record = await deploy(fixture.job(commit), { ...fixture.deps, config, feedback });
  return { record, feedback, failures, commit };
}

async function host(answer: () => ScriptedAnswer): Promise<RecordingHost> {
  const started = await startRecordingHost(() => answer());
  hosts.push(started);
  return started;
}

describe('a status host that fails never fails or delays the deployment', () => {
  test('a refused token (401) and an unknown repository (404): deployed; each post reported once', async () => {
    for (const status of [401, 404]) {
      const bitbucket = await host(() => ({ status, body: { type: 'error', error: { message: 'nope' } } }));
      const { record, feedback, failures } = await deployReportingTo(`${bitbucket.url}/2.0`);
      assert.equal(record.result, 'succeeded', record.message);
      await feedback.settle(10_000);
      // running and success, each tried once: a refusal is not retried.
      assert.equal(bitbucket.requests.length, 2);
      assert.deepEqual(
        failures.map((f) => f.state),
        ['running', 'success'],
      );
      assert.ok(failures.every((f) => String(f.error).includes(`answered ${status}`)));
    }
  });

  test('a rate limit (429) that does not lift: deployed; retried with backoff; reported', async () => {
    const bitbucket = await host(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const { record, feedback, failures } = await deployReportingTo(`${bitbucket.url}/2.0`);
    assert.equal(record.result, 'succeeded', record.message);
    await feedback.settle(10_000);
    assert.equal(bitbucket.requests.length, 6, 'three tries of each of two statuses');
    assert.equal(failures.length, 2);
  });

  test('a host that is down: deployed; reported as unreachable', async () => {
    const { record, feedback, failures } = await deployReportingTo(
      `http://127.0.0.1:${await closedPort()}/2.0`,
    );
    assert.equal(record.result, 'succeeded', record.message);
    await feedback.settle(10_000);
    assert.equal(failures.length, 2);
    assert.match(String(failures[0]?.error), /could not be reached .*ECONNREFUSED/);
  });

  test('a host that never answers: the deployment does not wait for it', async () => {
    const bitbucket = await startRecordingHost(() => 'hang');
    const { record, feedback, failures } = await deployReportingTo(`${bitbucket.url}/2.0`, 60_000);
    assert.equal(record.result, 'succeeded', record.message);
    // Deployed and recorded while its first status was still unanswered.
    assert.ok(bitbucket.requests.length >= 1);
    assert.equal(failures.length, 0);
    const settling = performance.now();
    await feedback.settle(200);
    assert.ok(performance.now() - settling < 1_000, 'settle is bounded');
    // The host goes away: the posts in flight fail, are tried again, and are reported.
    await bitbucket.close();
    await feedback.settle(10_000);
    assert.equal(failures.length, 2);
  });
});

const context = {
  functionName: 'worker',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** A deploy queue the event names; the handler sends nothing to it here. */
const DEPLOY_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/deploy.fifo';

/**
 * Runs `work` with what the process writes to stdout and stderr (Powertools' metrics and logs; warnings go to
 * stderr) collected, line by line.
 */
async function capturingOutput<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  try {
    return { result: await work(), lines };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
}

describe('the worker handler', () => {
  test('deploys, settles its statuses before it answers, and counts those GitHub refused', async () => {
    // The fixture's repository is a GitHub one on the test bed's Git server, which refuses GitHub's API calls.
    const { fixture, commit } = await fixtureWithCommit();
    process.env.FERRY_CONFIG_JSON = JSON.stringify(fixture.deps.config);
    process.env.FERRY_TABLE_NAME = fixture.table;
    process.env.FERRY_QUEUE_URL = await createDeployQueue();
    process.env[ENV.workerLogGroup] = '/aws/lambda/ferry-worker';
    const job = fixture.job(commit);
    const { result, lines } = await capturingOutput(() =>
      handler(messagesEvent(DEPLOY_QUEUE, [[JSON.stringify(job), partId(job)]]), context),
    );
    assert.deepEqual(result.batchItemFailures, []);
    const [latest] = await fixture.store.listDeployments(job, 1);
    assert.equal(latest?.result, 'succeeded');
    const parsed = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const notPosted = parsed.filter((l) => l.message === 'commit status not posted');
    assert.deepEqual(notPosted.map((l) => l.state).sort(), ['running', 'success']);
    assert.ok(notPosted.every((l) => /GitHub answered 401 to POST \/api\/v3\/repos\//.test(String(l.error))));
    const counted = parsed.filter((l) => l.StatusPostsFailed !== undefined);
    assert.equal(counted.length, 2, 'one StatusPostsFailed per status, before the handler answered');
    const token = await fixture.deps.secrets.getSecret(
      fixture.deps.config.repositories[0]?.tokenSecret ?? '',
    );
    assert.ok(!lines.some((l) => l.includes(token)), 'no token in any log line');
  });
});
