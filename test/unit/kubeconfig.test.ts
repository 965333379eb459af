import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { kubeconfigPath, staticKubeconfigAccess } from '../../functions/adapters/kubernetes/kubeconfig.ts';
import { yaml } from '../support/manifests.ts';

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** A kubeconfig of two contexts, `main` current, with the given cluster and user entries, and files beside it. */
async function kubeconfig(
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-kubeconfig-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const file = join(dir, 'config');
  await writeFile(
    file,
    yaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server: 'https://main.example:6443', ...cluster } },
        { name: 'other', cluster: { server: 'https://other.example:6443' } },
      ],
      users: [
        { name: 'u', user },
        { name: 'v', user: { token: 'other-token' } },
      ],
      contexts: [
        { name: 'main', context: { cluster: 'c', user: 'u' } },
        { name: 'side', context: { cluster: 'other', user: 'v' } },
      ],
      'current-context': 'main',
    }),
  );
  return file;
}

describe('a kubeconfig read without client-node', () => {
  test("the current context's server, CA data and token", async () => {
    const file = await kubeconfig({ 'certificate-authority-data': base64('the CA') }, { token: 't0ken' });
    const access = await staticKubeconfigAccess(file, 'local', undefined);
    assert.ok(access);
    assert.equal(access.name, 'local');
    assert.equal(access.server, 'https://main.example:6443');
    assert.deepEqual(await access.credentials(), {
      headers: { authorization: 'Bearer t0ken' },
      tls: { ca: Buffer.from('the CA') },
    });
  });

  test("files are taken from the kubeconfig's directory; TLS settings as written", async () => {
    const file = await kubeconfig(
      {
        'certificate-authority': 'ca.crt',
        'insecure-skip-tls-verify': true,
        'tls-server-name': 'api.internal',
      },
      { 'client-certificate': 'client.crt', 'client-key-data': base64('the key') },
      { 'ca.crt': 'CA file', 'client.crt': 'certificate file' },
    );
    const access = await staticKubeconfigAccess(file, 'local', undefined);
    assert.deepEqual((await access?.credentials())?.tls, {
      ca: Buffer.from('CA file'),
      cert: Buffer.from('certificate file'),
      key: Buffer.from('the key'),
      rejectUnauthorized: false,
      servername: 'api.internal',
    });
  });

  test('the context named instead of the current one', async () => {
    const access = await staticKubeconfigAccess(await kubeconfig({}, {}), 'local', 'side');
    assert.equal(access?.server, 'https://other.example:6443');
    assert.deepEqual((await access?.credentials())?.headers, { authorization: 'Bearer other-token' });
  });

  test('what it leaves to client-node: exec, auth providers, token files, passwords, unknown contexts', async () => {
    const exec = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } };
    for (const user of [
      exec,
      { 'auth-provider': { name: 'oidc' } },
      { tokenFile: 't' },
      { username: 'a', password: 'b' },
    ])
      assert.equal(await staticKubeconfigAccess(await kubeconfig({}, user), 'local', undefined), undefined);
    assert.equal(await staticKubeconfigAccess(await kubeconfig({}, {}), 'local', 'nowhere'), undefined);
  });

  test('a proxy, which no request would go through, is refused', async () => {
    const proxied = await kubeconfig({ 'proxy-url': 'http://proxy:3128' }, { token: 't' });
    await assert.rejects(staticKubeconfigAccess(proxied, 'local', undefined), {
      message:
        'its proxy-url is not supported: Ferry reaches the API server https://main.example:6443 directly',
    });
  });

  test('a file that is not valid YAML is named with the position of the error, never its lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-kubeconfig-'));
    const file = join(dir, 'config');
    await writeFile(file, 'users:\n- name: u\n  user:\n    token: s3cret-token\n   bad: [\n');
    await assert.rejects(staticKubeconfigAccess(file, 'local', undefined), (error: Error) => {
      assert.match(error.message, /^\S+config is not valid YAML \(line \d+, column \d+\)$/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });

  test('which file: the one named, else KUBECONFIG if it lists one, else ~/.kube/config', (t) => {
    const saved = process.env.KUBECONFIG;
    t.after(() => {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    });
    process.env.KUBECONFIG = ['/a', '/b'].join(delimiter);
    assert.equal(kubeconfigPath('/named'), '/named');
    assert.equal(kubeconfigPath(undefined), undefined, 'a list is merged by client-node');
    process.env.KUBECONFIG = '/only';
    assert.equal(kubeconfigPath(undefined), '/only');
    delete process.env.KUBECONFIG;
    assert.equal(kubeconfigPath(undefined), join(homedir(), '.kube', 'config'));
  });
});
