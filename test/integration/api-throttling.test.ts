// The API client under an API server that turns requests away: a private kube-apiserver allowing one mutating
// request in flight (priority and fairness off, so the plain in-flight limit answers 429 with Retry-After), with
// a service account's token, since system:masters is exempt from the limit. A burst of creates fails without
// retries and all succeed with them; the client's own rate bounds what it sends.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type ClusterAccess, KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { RequestThrottle } from '../../functions/adapters/kubernetes/rate-limit.ts';
import { ClusterApiError } from '../../functions/core/errors.ts';
import { configMap } from '../support/manifests.ts';
import { type PrivateApiserver, startPrivateApiserver } from '../support/private-apiserver.ts';
import { uniqueName } from '../support/testbed.ts';

const TIMEOUT = { timeout: 180_000 };
const BURST = 24;

let apiserver: PrivateApiserver;
let access: ClusterAccess;
before(async () => {
  apiserver = await startPrivateApiserver({
    args: ['--enable-priority-and-fairness=false', '--max-mutating-requests-inflight=1'],
  });
  const ca = await readFile(apiserver.caFile);
  const admin = new KubernetesApi(bearer(apiserver.token, ca));
  access = bearer(await serviceAccountToken(admin), ca);
  admin.close();
});
after(() => apiserver?.stop());

function bearer(token: string, ca: Buffer): ClusterAccess {
  const credentials = { headers: { authorization: `Bearer ${token}` }, tls: { ca } };
  return { name: 'narrow', server: apiserver.server, credentials: async () => credentials };
}

/** A token of a service account that may do anything, as a deployer outside system:masters. */
async function serviceAccountToken(admin: KubernetesApi): Promise<string> {
  const name = 'deployer';
  await admin.request({
    method: 'POST',
    path: '/api/v1/namespaces/default/serviceaccounts',
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  await admin.request({
    method: 'POST',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: uniqueName('deployer') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
    },
  });
  const request = await admin.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/default/serviceaccounts/${name}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
  });
  return request.status.token;
}

/** Creates BURST ConfigMaps at once; the errors of those that failed. */
async function burst(api: KubernetesApi, prefix: string): Promise<unknown[]> {
  const results = await Promise.allSettled(
    Array.from({ length: BURST }, (_, i) =>
      api.request({
        method: 'POST',
        path: '/api/v1/namespaces/default/configmaps',
        body: configMap(`${prefix}-${i}`, { i: String(i) }),
      }),
    ),
  );
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

describe('the API client under an API server that turns requests away', () => {
  test('without retries a burst draws 429s; with them every request gets through', TIMEOUT, async () => {
    const bare = new KubernetesApi(access, { throttledRetries: 0 });
    let refused: unknown[] = [];
    // One mutating request in flight against 16 sockets: a burst overlaps, however loaded the machine is, but
    // a round may still happen to run one request after another.
    for (let round = 0; round < 5 && refused.length === 0; round++)
      refused = await burst(bare, uniqueName(`bare${round}`));
    bare.close();
    assert.ok(refused.length > 0, 'the API server turned some of a burst away');
    for (const error of refused) {
      assert.ok(error instanceof ClusterApiError, String(error));
      assert.equal(error.status, 429);
    }

    const patient = new KubernetesApi(access);
    assert.deepEqual(await burst(patient, uniqueName('patient')), []);
    patient.close();
  });

  test("a client's throttle spaces its requests at the rate", TIMEOUT, async () => {
    const api = new KubernetesApi(access, { throttle: new RequestThrottle({ perSecond: 20, burst: 1 }) });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 6 }, () => api.request({ method: 'GET', path: '/api/v1/namespaces/default' })),
    );
    api.close();
    // Five intervals of 50 ms after the first: a loaded machine can only make it longer.
    assert.ok(performance.now() - started >= 240, `${performance.now() - started} ms`);
  });
});
