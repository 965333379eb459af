// Discovery as a revision's plan asks for it, against the test bed's API server: one request per API group
// version, all of them in flight together, so that a fresh process pays one round trip for them, not one each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ApiRequest, KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { KubernetesCluster } from '../../functions/adapters/kubernetes/kubernetes-cluster.ts';
import { plan } from '../../functions/core/apply/prepare.ts';
import { configMap, deployment } from '../support/manifests.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

/** The API client, recording when each request started and ended. */
class RecordingApi extends KubernetesApi {
  readonly sent: { path: string; started: number; ended?: number }[] = [];

  override async request<T>(req: ApiRequest): Promise<T> {
    const entry: { path: string; started: number; ended?: number } = {
      path: req.path,
      started: performance.now(),
    };
    this.sent.push(entry);
    try {
      return await super.request<T>(req);
    } finally {
      entry.ended = performance.now();
    }
  }
}

test("a revision's API group versions are discovered at once, each once", async (t) => {
  const api = new RecordingApi(testbedKubeConfig());
  t.after(() => api.close());
  const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: {} };
  const objects = [configMap('a', {}), deployment('web', 'nginx:1.27'), job, configMap('b', {})];
  const { planned } = await plan(objects, {
    cluster: new KubernetesCluster(api),
    owner: { app: 'app', environment: 'staging', part: 'app' },
    defaultNamespace: 'default',
  });
  assert.equal(planned.length, 4);
  assert.deepEqual(api.sent.map((r) => r.path).sort(), ['/api/v1', '/apis/apps/v1', '/apis/batch/v1']);
  const firstEnded = Math.min(...api.sent.map((r) => r.ended ?? Number.POSITIVE_INFINITY));
  assert.ok(
    api.sent.every((r) => r.started < firstEnded),
    'every discovery request was sent before the first was answered',
  );
});
