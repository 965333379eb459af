// The worker Lambda's handler with SQS FIFO events, and the pieces it reaches AWS with.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { Context } from 'aws-lambda';
import { eksClusterAccess } from '../../functions/adapters/aws/eks-connection.ts';
import { eksToken } from '../../functions/adapters/aws/eks-token.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import { deploy, EnvironmentBusy } from '../../functions/core/deploy/deploy.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import { partId } from '../../functions/core/model/part.ts';
import { handler } from '../../functions/worker/handler.ts';
import { createDeployQueue } from '../support/aws.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { simulateRollouts } from '../support/rollout.ts';
import { messagesEvent } from '../support/sqs-worker.ts';
import { createNamespaces, testbedKubeConfig, uniqueName } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

/** A deploy queue the event names; the handler sends nothing to it here. */
const DEPLOY_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/deploy.fifo';
const context = {
  functionName: 'worker',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('worker handler', () => {
  test('a malformed message fails alone, other groups go on; a batch of one group ends at the branch head', async () => {
    const fixture = await deployFixture();
    await createNamespaces(api, [fixture.namespace]);
    const first = await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('release', { v: '1' })),
    });
    const second = await fixture.workspace.commit({
      'deploy/cm.yaml': yaml(configMap('release', { v: '2' })),
    });
    await fixture.workspace.push();
    process.env.FERRY_CONFIG_JSON = JSON.stringify(fixture.deps.config);
    process.env.FERRY_TABLE_NAME = fixture.table;
    process.env.FERRY_QUEUE_URL = await createDeployQueue();
    const jobs: DeployJob[] = [fixture.job(first), fixture.job(second)];
    const group = partId(fixture.job(first));
    const response = await handler(
      messagesEvent(DEPLOY_QUEUE, [
        [JSON.stringify(jobs[0]), group],
        ['{"not":"a job"}', 'other/group'],
        [JSON.stringify(jobs[1]), group],
      ]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: 'm-1' }]);
    const history = await fixture.store.listDeployments(
      { app: fixture.app, environment: 'staging', part: 'app' },
      10,
    );
    // The first job deploys the head of main (its own commit was only a hint); the second finds it current.
    assert.deepEqual(history.map((d) => [d.commit, d.requestedCommit, d.result]).reverse(), [
      [second, first, 'succeeded'],
      [second, undefined, 'current'],
    ]);
  });
});

describe('one worker per environment', () => {
  test('a second worker on the same environment is refused by the lock and retried, not recorded', async () => {
    const fixture = await deployFixture();
    await createNamespaces(api, [fixture.namespace]);
    const commit = await fixture.workspace.commit({ 'deploy/cm.yaml': yaml(configMap('c', { v: '1' })) });
    await fixture.workspace.push();
    const results = await Promise.allSettled([
      deploy(fixture.job(commit), fixture.deps),
      deploy(fixture.job(commit), fixture.deps),
    ]);
    const busy = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    assert.equal(busy.length, 1);
    assert.ok(busy[0] instanceof EnvironmentBusy, String(busy[0]));
    const history = await fixture.store.listDeployments(
      { app: fixture.app, environment: 'staging', part: 'app' },
      10,
    );
    assert.deepEqual(
      history.map((d) => d.result),
      ['succeeded'],
    );
  });
});

describe('immutable fields', () => {
  const selectorChange = async (recreateOnImmutableChange: boolean) => {
    const fixture = await deployFixture({ recreateOnImmutableChange });
    const rollouts = simulateRollouts(api, fixture.namespace);
    try {
      const ns = yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } });
      const web = deployment('web', 'nginx:1.27');
      await fixture.workspace.commit({ 'deploy/ns.yaml': ns, 'deploy/web.yaml': yaml(web) });
      await fixture.workspace.push();
      const first = await deploy(
        fixture.job((await fixture.workspace.git('rev-parse', 'HEAD')).trim()),
        fixture.deps,
      );
      assert.equal(first.result, 'succeeded', first.message);
      const changed = structuredClone(web);
      changed.spec.selector.matchLabels.app = 'web-v2';
      changed.spec.template.metadata.labels.app = 'web-v2';
      const commit = await fixture.workspace.commit({ 'deploy/web.yaml': yaml(changed) });
      await fixture.workspace.push();
      return { fixture, record: await deploy(fixture.job(commit), fixture.deps) };
    } finally {
      await rollouts.stop();
    }
  };

  test('an immutable-field change is refused where the environment does not allow re-creating', async () => {
    const { record } = await selectorChange(false);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /Deployment .*\/web: .*immutable/);
  });

  test('an immutable-field change re-creates the object where the environment allows it', async () => {
    const { fixture, record } = await selectorChange(true);
    assert.equal(record.result, 'succeeded', record.message);
    assert.equal(
      record.objects.find((o) => o.object === `Deployment ${fixture.namespace}/web`)?.action,
      'recreated',
    );
  });
});

describe('EKS access', () => {
  test('a token is a presigned STS GetCallerIdentity URL bound to the cluster name', async () => {
    const token = await eksToken('prod-eu', 'eu-west-1', async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
    }));
    assert.match(token, /^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    assert.equal(url.host, 'sts.eu-west-1.amazonaws.com');
    assert.equal(url.searchParams.get('Action'), 'GetCallerIdentity');
    assert.equal(url.searchParams.get('Version'), '2011-06-15');
    assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '60');
    assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id');
    assert.match(
      url.searchParams.get('X-Amz-Credential') ?? '',
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request$/,
    );
    assert.match(url.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
  });

  test('an EKS cluster is described for its endpoint and CA before Ferry connects', async () => {
    const name = uniqueName('cluster');
    const { cluster: described } = await new EKSClient({}).send(
      new CreateClusterCommand({
        name,
        roleArn: 'arn:aws:iam::123456789012:role/eks',
        resourcesVpcConfig: {},
      }),
    );
    const before = Date.now();
    const { access, expiresAt } = await eksClusterAccess({
      name: 'prod',
      type: 'eks',
      clusterName: name,
      accessPolicy: 'AmazonEKSClusterAdminPolicy',
    });
    assert.equal(access.name, 'prod');
    assert.equal(access.server, described?.endpoint);
    const { headers, tls } = await access.credentials();
    assert.match(headers?.authorization ?? '', /^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(tls?.ca, Buffer.from(described?.certificateAuthority?.data ?? '', 'base64'));
    assert.ok(
      expiresAt >= before + 13 * 60_000 && expiresAt <= Date.now() + 14 * 60_000,
      'renewed within 15 min',
    );
    const connector = new KubernetesClusterConnector({ eks: eksClusterAccess });
    const cluster = await connector.connect({
      name: 'prod',
      type: 'eks',
      clusterName: name,
      accessPolicy: 'AmazonEKSClusterAdminPolicy',
    });
    // moto's cluster endpoint serves no Kubernetes API: reaching it proves the described endpoint was used.
    await assert.rejects(cluster.resourceType('v1', 'ConfigMap'));
    await assert.rejects(
      connector.connect({
        name: 'missing',
        type: 'eks',
        clusterName: uniqueName('absent'),
        accessPolicy: 'AmazonEKSClusterAdminPolicy',
      }),
      /ResourceNotFound|No cluster found|not found/i,
    );
    connector.close();
  });
});
