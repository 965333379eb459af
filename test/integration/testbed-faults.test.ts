// A private kube-apiserver can be broken the ways fault tests need, without touching the shared one: paused it
// stops answering, killed it refuses connections, restarted it still has its objects, which no other apiserver sees.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { type PrivateApiserver, startPrivateApiserver } from '../support/private-apiserver.ts';
import { testbed, uniqueName } from '../support/testbed.ts';

interface Target {
  readonly server: string;
  readonly caFile: string;
  readonly token: string;
}

interface Answer {
  readonly status: number;
  readonly body: { data?: Record<string, string> };
}

/** One request on a new connection; fails with code ETIMEDOUT when nothing arrives for `timeoutMs`. */
function call(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.server}${path}`,
      {
        method,
        agent: false,
        ca: readFileSync(target.caFile),
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('a private kube-apiserver', () => {
  let apiserver: PrivateApiserver;
  let startSeconds = '';
  const namespace = uniqueName('faults');
  const configMap = `/api/v1/namespaces/${namespace}/configmaps/kept`;
  before(async () => {
    const started = Date.now();
    apiserver = await startPrivateApiserver();
    startSeconds = ((Date.now() - started) / 1000).toFixed(1);
  });
  after(() => apiserver?.stop());

  test('keeps what it is given, apart from the shared apiserver', async (t) => {
    t.diagnostic(`ready ${startSeconds}s after start`);
    const created = await call(apiserver, 'POST', '/api/v1/namespaces', { metadata: { name: namespace } });
    assert.equal(created.status, 201);
    const written = await call(apiserver, 'POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      metadata: { name: 'kept' },
      data: { written: 'before the faults' },
    });
    assert.equal(written.status, 201);
    assert.deepEqual((await call(apiserver, 'GET', configMap)).body.data, { written: 'before the faults' });

    const { kubeServer, kubeCaFile, kubeToken } = testbed();
    const shared = { server: kubeServer, caFile: kubeCaFile, token: kubeToken };
    assert.equal(
      (await call(shared, 'GET', configMap)).status,
      404,
      'the shared apiserver has no such object',
    );
    assert.equal((await call(shared, 'GET', '/api/v1/namespaces')).status, 200);
  });

  test('paused, it stops answering; resumed, it answers again', async () => {
    apiserver.pause();
    await assert.rejects(call(apiserver, 'GET', configMap, undefined, 1000), { code: 'ETIMEDOUT' });
    apiserver.resume();
    assert.equal((await call(apiserver, 'GET', configMap)).status, 200);
  });

  test('killed, it refuses connections; restarted, it still has what it was given', async (t) => {
    await apiserver.kill();
    await assert.rejects(call(apiserver, 'GET', configMap), { code: 'ECONNREFUSED' });
    const started = Date.now();
    await apiserver.restart();
    t.diagnostic(`ready ${((Date.now() - started) / 1000).toFixed(1)}s after restart`);
    assert.deepEqual((await call(apiserver, 'GET', configMap)).body.data, { written: 'before the faults' });
  });

  test('a token of another apiserver does not authenticate on it', async () => {
    const { kubeToken } = testbed();
    assert.equal((await call({ ...apiserver, token: kubeToken }, 'GET', '/api/v1/namespaces')).status, 401);
  });
});
