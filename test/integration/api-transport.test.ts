// How the API client reaches an API server, counted at a TCP proxy in front of it: one HTTP/2 connection for
// requests in flight together where the server speaks HTTP/2 (the test bed's kube-apiserver does); a pool of
// HTTP/1.1 sockets where it does not (a private kube-apiserver with HTTP/2 serving turned off); and, where the
// server sends GOAWAY on a share of requests (a private kube-apiserver's --goaway-chance), new connections, with
// every request answered once.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { type ClusterAccess, KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { ClusterApiError } from '../../functions/core/errors.ts';
import { configMap } from '../support/manifests.ts';
import { type PrivateApiserver, startPrivateApiserver } from '../support/private-apiserver.ts';
import { createNamespaces, testbed, uniqueName } from '../support/testbed.ts';

const TIMEOUT = { timeout: 120_000 };

/** A TCP proxy to `target` that counts the connections it is opened. */
async function countingProxy(
  target: string,
): Promise<{ server: string; connections(): number; stop(): void }> {
  const { hostname, port } = new URL(target);
  let connections = 0;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    connections++;
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    server: `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    connections: () => connections,
    stop() {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

function access(server: string, token: string, ca: Buffer): ClusterAccess {
  const credentials = { headers: { Authorization: `Bearer ${token}` }, tls: { ca } };
  return { name: 'counted', server, credentials: async () => credentials };
}

/** Requests in flight together: lists, a create, a DELETE with its options as a body, a GET of what it deleted. */
async function traffic(api: KubernetesApi, namespace: string): Promise<void> {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  await Promise.all(
    Array.from({ length: 40 }, () => api.request({ method: 'GET', path, query: { limit: '1' } })),
  );
  await api.request({ method: 'POST', path, body: configMap('doomed', { a: '1' }) });
  await api.request({
    method: 'DELETE',
    path: `${path}/doomed`,
    body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
  });
  await assert.rejects(
    api.request({ method: 'GET', path: `${path}/doomed` }),
    (error) => error instanceof ClusterApiError && error.status === 404,
  );
}

describe('the API client on the wire', () => {
  const stops: (() => unknown)[] = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  const privateApiserver = async (args: string[]): Promise<PrivateApiserver> => {
    const apiserver = await startPrivateApiserver({ args });
    stops.push(() => apiserver.stop());
    return apiserver;
  };
  const through = async (server: string, token: string, caFile: string) => {
    const proxy = await countingProxy(server);
    const api = new KubernetesApi(access(proxy.server, token, await readFile(caFile)));
    stops.push(
      () => proxy.stop(),
      () => api.close(),
    );
    return { proxy, api };
  };

  test('requests in flight together share one HTTP/2 connection', TIMEOUT, async () => {
    const { kubeServer, kubeToken, kubeCaFile } = testbed();
    const { proxy, api } = await through(kubeServer, kubeToken, kubeCaFile);
    const namespace = uniqueName('wire');
    await createNamespaces(api, [namespace]);
    await traffic(api, namespace);
    assert.equal(proxy.connections(), 1);
  });

  test('an API server without HTTP/2 is reached over HTTP/1.1 sockets', TIMEOUT, async () => {
    const apiserver = await privateApiserver(['--disable-http2-serving']);
    const { proxy, api } = await through(apiserver.server, apiserver.token, apiserver.caFile);
    await traffic(api, 'default');
    // The handshake that learnt it, then up to 16 sockets for the requests in flight.
    assert.ok(proxy.connections() > 2 && proxy.connections() <= 17, `${proxy.connections()} connections`);
  });

  test('after a GOAWAY requests go on a new connection, each answered once', TIMEOUT, async () => {
    const apiserver = await privateApiserver(['--goaway-chance=0.02']);
    const { proxy, api } = await through(apiserver.server, apiserver.token, apiserver.caFile);
    const path = '/api/v1/namespaces/default/configmaps';
    const prefix = uniqueName('goaway');
    const created = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) =>
        api.request({ method: 'POST', path, body: configMap(`${prefix}-${i}`, { i: String(i) }) }),
      ),
    );
    // A create sent twice would have answered AlreadyExists.
    assert.deepEqual(
      created.flatMap((c) => (c.status === 'rejected' ? [String(c.reason)] : [])),
      [],
    );
    assert.ok(proxy.connections() > 1, `${proxy.connections()} connection(s)`);
  });
});
