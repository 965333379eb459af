// Kustomize overlays and Helm charts per environment, rendered with the kubectl and helm of the Lambda layer.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { deployFixture } from '../support/deploy.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { createNamespaces, testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());
const data = async (namespace: string, name: string) =>
  (
    await api.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    })
  ).data;
describe('render', () => {
  test('a Kustomize overlay per environment', async () => {
    const fixture = await deployFixture({ path: 'kustomize/overlays/staging' });
    await createNamespaces(api, [fixture.namespace]);
    const commit = await fixture.workspace.commit({
      'kustomize/base/kustomization.yaml': yaml({ resources: ['settings.yaml'] }),
      'kustomize/base/settings.yaml': yaml(configMap('settings', { tier: 'base', color: 'blue' })),
      'kustomize/overlays/staging/kustomization.yaml': yaml({
        resources: ['../../base'],
        namePrefix: 'staging-',
        patches: [{ path: 'color.yaml' }],
      }),
      'kustomize/overlays/staging/color.yaml': yaml(configMap('settings', { color: 'green' })),
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.deepEqual(await data(fixture.namespace, 'staging-settings'), { tier: 'base', color: 'green' });
  });

  test('a Helm chart with per-environment values files', async () => {
    const fixture = await deployFixture({
      path: 'chart',
      helm: { releaseName: 'shop', valuesFiles: ['values-staging.yaml'] },
    });
    await createNamespaces(api, [fixture.namespace]);
    const commit = await fixture.workspace.commit({
      'chart/Chart.yaml': yaml({ apiVersion: 'v2', name: 'shop', version: '1.0.0' }),
      'chart/values.yaml': yaml({ replicas: 1, greeting: 'hello' }),
      'chart/values-staging.yaml': yaml({ greeting: 'hello staging' }),
      'chart/templates/config.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  namespace: {{ .Release.Namespace | quote }}\n',
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    assert.deepEqual(await data(fixture.namespace, 'shop-config'), {
      greeting: 'hello staging',
      namespace: fixture.namespace,
    });
  });

  test('a Helm template error fails the deployment with helm’s message', async () => {
    const fixture = await deployFixture({ path: 'chart' });
    const commit = await fixture.workspace.commit({
      'chart/Chart.yaml': yaml({ apiVersion: 'v2', name: 'broken', version: '1.0.0' }),
      'chart/templates/config.yaml': 'kind: ConfigMap\n{{ .Values.missing.deeply }}\n',
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'failed');
    assert.match(record.message, /render failed: helm template failed: .*config\.yaml/);
  });
});
