// Push mode end to end through both Lambda handlers: a signed GitHub push into the webhook handler, the job it
// put on moto's SQS FIFO queue into the worker handler, the commit live in the test bed's apiserver.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { handler as webhook } from '../../functions/webhook/handler.ts';
import { handler as worker } from '../../functions/worker/handler.ts';
import { createDeployQueue } from '../support/aws.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { sqsEvent } from '../support/sqs-worker.ts';
import { createNamespaces, testbedKubeConfig, uniqueName } from '../support/testbed.ts';
import { apiEvent, githubDelivery, githubPush, lambdaContext } from '../support/webhooks.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

test('a signed GitHub push is verified, enqueued, deployed by the worker and recorded', async () => {
  const fixture = await deployFixture();
  await createNamespaces(api, [fixture.namespace]);
  const secret = randomUUID();
  const secretName = uniqueName('ferry/webhook');
  await new SecretsManagerClient({}).send(
    new CreateSecretCommand({ Name: secretName, SecretString: secret }),
  );
  const queueUrl = await createDeployQueue();
  const config = {
    ...fixture.deps.config,
    repositories: fixture.deps.config.repositories.map((r) => ({ ...r, webhookSecret: secretName })),
  };
  Object.assign(process.env, {
    FERRY_CONFIG_JSON: JSON.stringify(config),
    FERRY_QUEUE_URL: queueUrl,
    FERRY_TABLE_NAME: fixture.table,
  });

  const before = await fixture.workspace.commit({ 'README.md': 'shop\n' });
  const commit = await fixture.workspace.commit({
    'deploy/cm.yaml': yaml(configMap('greeting', { text: 'hello' })),
  });
  await fixture.workspace.push();
  const payload = githubPush({ url: fixture.workspace.url, commit, before, paths: ['deploy/cm.yaml'] });
  const answer = await webhook(apiEvent(githubDelivery(payload, { secret })), lambdaContext());
  assert.equal(answer.statusCode, 202, String(answer.body));

  const { Messages = [] } = await new SQSClient({}).send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  assert.equal(Messages.length, 1);
  const event = sqsEvent(queueUrl, Messages);
  assert.equal(event.Records[0]?.attributes.MessageGroupId, `${fixture.app}/staging/app`);
  const response = await worker(event, lambdaContext());
  assert.deepEqual(response.batchItemFailures, []);

  const live = await api.request<{ data: { text: string } }>({
    method: 'GET',
    path: `/api/v1/namespaces/${fixture.namespace}/configmaps/greeting`,
  });
  assert.equal(live.data.text, 'hello');
  const [deployment] = await fixture.store.listDeployments(
    { app: fixture.app, environment: 'staging', part: 'app' },
    1,
  );
  assert.equal(deployment?.result, 'succeeded');
  assert.equal(deployment?.commit, commit);
  assert.equal(deployment?.trigger.kind, 'push');
});
