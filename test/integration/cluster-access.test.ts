// How the API client reaches a cluster: its own ClusterAccess (as the functions build it for EKS, without
// @kubernetes/client-node), a KubeConfig converted to one, and the connector's sources.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type ClusterAccess,
  KubernetesApi,
  kubeConfigAccess,
} from '../../functions/adapters/kubernetes/api-client.ts';
import { KubernetesClusterConnector } from '../../functions/adapters/kubernetes/cluster-connector.ts';
import { Failure } from '../../functions/core/errors.ts';
import { yaml } from '../support/manifests.ts';
import { testbed, writeTestbedKubeconfig } from '../support/testbed.ts';

function kubeConfig(user: Record<string, string>, cluster: Record<string, unknown> = {}): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'kc', server: 'https://kc.example:6443', skipTLSVerify: false, ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'kc', cluster: 'kc', user: 'u' }],
    currentContext: 'kc',
  });
  return config;
}

/** The test bed's API server as the functions reach an EKS cluster: a bearer token and the CA's bytes. */
async function tokenAccess(token: string): Promise<ClusterAccess> {
  const { kubeServer, kubeCaFile } = testbed();
  const credentials = {
    headers: { authorization: `Bearer ${token}` },
    tls: { ca: await readFile(kubeCaFile) },
  };
  return { name: 'testbed', server: kubeServer, credentials: async () => credentials };
}

describe('a KubeConfig as a ClusterAccess', () => {
  test("its current cluster's server, CA and token, named as configured", async () => {
    const access = kubeConfigAccess(
      kubeConfig({ token: 't0ken' }, { caData: Buffer.from('the CA').toString('base64') }),
      'prod',
    );
    assert.equal(access.name, 'prod');
    assert.equal(access.server, 'https://kc.example:6443');
    const { headers, tls } = await access.credentials();
    assert.equal(headers?.Authorization, 'Bearer t0ken');
    assert.deepEqual(tls, { ca: Buffer.from('the CA') });
  });

  test('a username and password are basic authentication; skip-TLS-verify turns verification off', async () => {
    const access = kubeConfigAccess(kubeConfig({ username: 'ops', password: 'pw' }, { skipTLSVerify: true }));
    assert.equal(access.name, 'kc');
    const { headers, tls } = await access.credentials();
    assert.equal(headers?.authorization, `Basic ${Buffer.from('ops:pw').toString('base64')}`);
    assert.deepEqual(tls, { rejectUnauthorized: false });
  });

  test('a kubeconfig without a current cluster is a configuration failure', () => {
    assert.throws(
      () => kubeConfigAccess(new KubeConfig()),
      (error) =>
        error instanceof Failure &&
        error.failureClass === 'configuration' &&
        /no current cluster/.test(error.message),
    );
  });
});

describe('the API client on a ClusterAccess', () => {
  test('requests carry its token and trust its CA, over kept-alive connections', async (t) => {
    const api = new KubernetesApi(await tokenAccess(testbed().kubeToken));
    t.after(() => api.close());
    for (let i = 0; i < 3; i++) {
      const list = await api.request<{ kind: string }>({ method: 'GET', path: '/api/v1/namespaces' });
      assert.equal(list.kind, 'NamespaceList');
    }
  });

  test("a wrong token is the API server's 401, a CA that is not the server's a transient failure", async (t) => {
    const rejected = new KubernetesApi(await tokenAccess('wrong'));
    const untrusted = new KubernetesApi({
      name: 'testbed',
      server: testbed().kubeServer,
      credentials: async () => ({ headers: { authorization: `Bearer ${testbed().kubeToken}` } }),
    });
    t.after(() => {
      rejected.close();
      untrusted.close();
    });
    await assert.rejects(rejected.request({ method: 'GET', path: '/api/v1/namespaces' }), { status: 401 });
    await assert.rejects(
      untrusted.request({ method: 'GET', path: '/api/v1/namespaces' }),
      (error) =>
        error instanceof Failure &&
        error.failureClass === 'transient' &&
        /^cluster testbed \(/.test(error.message),
    );
  });
});

describe('the cluster connector', () => {
  test("reaches a kubeconfig file's cluster, and names a missing file with the cluster", async (t) => {
    const connector = new KubernetesClusterConnector();
    t.after(() => connector.close());
    const cluster = await connector.connect({
      name: 'local',
      type: 'kubeconfig',
      kubeconfig: await writeTestbedKubeconfig(),
    });
    assert.equal((await cluster.resourceType('v1', 'ConfigMap'))?.namespaced, true);
    await assert.rejects(
      connector.connect({ name: 'gone', type: 'kubeconfig', kubeconfig: '/nonexistent/kubeconfig' }),
      {
        failureClass: 'configuration',
        message: 'cluster gone: kubeconfig /nonexistent/kubeconfig does not exist',
      },
    );
  });

  test('a kubeconfig whose user runs an exec plugin is read by client-node, and reaches the cluster', async (t) => {
    const { kubeServer, kubeCaFile, kubeToken } = testbed();
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: kubeToken },
    };
    const file = join(await mkdtemp(join(tmpdir(), 'ferry-exec-')), 'config');
    await writeFile(
      file,
      yaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'bed', cluster: { server: kubeServer, 'certificate-authority': kubeCaFile } }],
        users: [
          {
            name: 'plugin',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: process.execPath,
                args: ['-e', `console.log(${JSON.stringify(JSON.stringify(credential))})`],
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'bed', context: { cluster: 'bed', user: 'plugin' } }],
        'current-context': 'bed',
      }),
    );
    const connector = new KubernetesClusterConnector();
    t.after(() => connector.close());
    const cluster = await connector.connect({ name: 'exec', type: 'kubeconfig', kubeconfig: file });
    assert.equal((await cluster.resourceType('v1', 'ConfigMap'))?.namespaced, true);
  });

  test('refuses an EKS cluster where it has no way to reach one', async () => {
    await assert.rejects(
      new KubernetesClusterConnector().connect({
        name: 'prod',
        type: 'eks',
        clusterName: 'prod',
        accessPolicy: 'AmazonEKSClusterAdminPolicy',
      }),
      {
        failureClass: 'configuration',
        message: 'cluster prod is an EKS cluster, which this runtime cannot reach',
      },
    );
  });
});
