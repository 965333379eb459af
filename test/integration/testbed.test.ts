// Round trips to each server of the test bed, proving it is real: Kubernetes, AWS (moto) and Git.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { GitWorkspace } from '../support/git.ts';
import { WIDGET_SCHEMA, widgetCrd } from '../support/manifests.ts';
import { testbed, testbedKubeConfig, uniqueName } from '../support/testbed.ts';

describe('kubernetes: a real kube-apiserver', () => {
  const api = new KubernetesApi(testbedKubeConfig());
  after(() => api.close());
  const apply = <T>(path: string, body: unknown) =>
    api.request<T>({
      method: 'PATCH',
      path,
      query: { fieldManager: 'ferry-tests', force: 'true' },
      body,
      contentType: 'application/apply-patch+yaml',
    });

  test('server-side applies a Deployment', async () => {
    const namespace = uniqueName('testbed');
    await apply(`/api/v1/namespaces/${namespace}`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      },
    };
    await apply(`/apis/apps/v1/namespaces/${namespace}/deployments/web`, deployment);
    const live = await api.request<
      typeof deployment & { metadata: { managedFields: { manager: string }[] } }
    >({
      method: 'GET',
      path: `/apis/apps/v1/namespaces/${namespace}/deployments/web`,
    });
    assert.equal(live.spec.replicas, 2);
    assert.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.27');
    assert.ok(live.metadata.managedFields.some((entry) => entry.manager === 'ferry-tests'));
  });

  test('server-side applies a CRD with its schema keys intact, then a custom resource of it', async () => {
    const group = `${uniqueName('t')}.ferry.test`;
    const crd = widgetCrd(group);
    const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`;
    await apply(crdPath, crd);
    type Crd = typeof crd & { status?: { conditions?: { type: string; status: string }[] } };
    let live = await api.request<Crd>({ method: 'GET', path: crdPath });
    for (let i = 0; i < 100 && !established(live); i++) {
      await sleep(100);
      live = await api.request<Crd>({ method: 'GET', path: crdPath });
    }
    assert.ok(established(live), 'the CRD becomes Established');
    assert.deepEqual(live.spec.versions[0]?.schema.openAPIV3Schema, WIDGET_SCHEMA);

    const namespace = uniqueName('testbed');
    await apply(`/api/v1/namespaces/${namespace}`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const widgetPath = `/apis/${group}/v1/namespaces/${namespace}/widgets/first`;
    const extra = { anything: { nested: [1, 'two'] } };
    await apply(widgetPath, {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'first' },
      spec: { extra },
    });
    const widget = await api.request<{ spec: unknown }>({ method: 'GET', path: widgetPath });
    assert.deepEqual(
      widget.spec,
      { size: 'small', extra },
      'the default applies and unknown fields are kept',
    );
  });
});

function established(crd: { status?: { conditions?: { type: string; status: string }[] } }): boolean {
  return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}

describe('aws: moto in server mode', () => {
  test('SQS FIFO delivers one message for two sends with the same deduplication id', async () => {
    const sqs = new SQSClient({});
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${uniqueName('testbed')}.fifo`,
        Attributes: { FifoQueue: 'true' },
      }),
    );
    for (const body of ['first', 'second']) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageGroupId: 'app/env',
          MessageDeduplicationId: 'd-1',
        }),
      );
    }
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    assert.deepEqual(
      Messages.map((m) => m.Body),
      ['first'],
    );
  });

  test('DynamoDB refuses a conditional write on its second try', async () => {
    const dynamodb = new DynamoDBClient({});
    const TableName = uniqueName('testbed');
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const put = new PutItemCommand({
      TableName,
      Item: { pk: { S: 'delivery#1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    await dynamodb.send(put);
    await assert.rejects(dynamodb.send(put), ConditionalCheckFailedException);
  });
});

describe('git: smart HTTP', () => {
  test('a pushed commit is fetched back at its exact SHA', async () => {
    const workspace = await GitWorkspace.create(`tests/${uniqueName('repo')}`);
    const first = await workspace.commit({ 'app/config.yaml': 'version: 1\n' }, 'first');
    await workspace.push();
    await workspace.commit({ 'app/config.yaml': 'version: 2\n' }, 'second');
    await workspace.push();

    const dir = await mkdtemp(join(tmpdir(), 'ferry-fetch-'));
    const onAuth = () => ({ username: 'x-access-token', password: testbed().gitToken });
    await git.init({ fs: fs, dir });
    await git.addRemote({ fs: fs, dir, remote: 'origin', url: workspace.url });
    await git.fetch({
      fs: fs,
      http,
      dir,
      onAuth,
      ref: first,
      depth: 1,
      singleBranch: true,
    });
    await git.checkout({ fs: fs, dir, ref: first, force: true });
    assert.equal(await readFile(join(dir, 'app/config.yaml'), 'utf8'), 'version: 1\n');
    assert.equal(await git.resolveRef({ fs: fs, dir, ref: 'HEAD' }), first);

    await assert.rejects(
      git.fetch({ fs: fs, http, dir, ref: first, depth: 1 }),
      /401/,
      'the server refuses a fetch without the token',
    );
    await rm(dir, { recursive: true, force: true });
    await workspace.remove();
  });
});
