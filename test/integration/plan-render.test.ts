// Rendering a head that a stranger controls, with the Lambda layer's kubectl and helm: Kustomize runs no plugin
// or function, reads nothing outside the kustomization and fetches no remote base; Helm looks nothing up and
// runs no plugin; a render that runs too long or prints too much is stopped, saying which bound it hit. Each
// refusal is checked against the same content rendered without the bound where that can tell them apart.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DEPLOY_RENDER,
  layerManifestTools,
  type RenderLimits,
  UNTRUSTED_RENDER,
} from '../../functions/adapters/tools/layer-tools.ts';
import { render } from '../../functions/core/source/render.ts';
import { configMap, yaml } from '../support/manifests.ts';
import { writeTestbedKubeconfig } from '../support/testbed.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-plan-render-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** Writes a source tree under a fresh directory and renders `path` of it within `limits`. */
async function renderTree(files: Record<string, string>, limits: RenderLimits, path = 'app') {
  const dir = await mkdtemp(join(root, 'tree-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  const tools = await layerManifestTools(limits);
  const request = { root: dir, path, namespace: 'shop', releaseName: 'shop', valuesFiles: [] };
  return { dir, result: render(request, tools) };
}

const failureOf = async (result: Promise<unknown>): Promise<string> =>
  result.then(
    () => assert.fail('the render succeeded'),
    (error: unknown) => String(error),
  );

describe('Kustomize on an untrusted head', () => {
  test('an exec plugin is not run: the render fails and the plugin leaves no trace', async () => {
    const { dir, result } = await renderTree(
      {
        'app/kustomization.yaml': yaml({ resources: ['settings.yaml'], generators: ['generator.yaml'] }),
        'app/settings.yaml': yaml(configMap('settings', { a: '1' })),
        'app/generator.yaml': yaml({
          apiVersion: 'example.com/v1',
          kind: 'Generator',
          metadata: {
            name: 'gen',
            annotations: { 'config.kubernetes.io/function': 'exec:\n  path: ./generate.sh\n' },
          },
        }),
        'app/generate.sh': '#!/bin/sh\ntouch "$(dirname "$0")/ran"\necho "{}"\n',
      },
      UNTRUSTED_RENDER,
    );
    await chmod(join(dir, 'app', 'generate.sh'), 0o755);
    assert.match(await failureOf(result), /render failed: kustomize failed: .*(plugin|function)/i);
    assert.equal(existsSync(join(dir, 'app', 'ran')), false, 'the plugin never ran');
  });

  test('no file outside the kustomization is read', async () => {
    const { result } = await renderTree(
      {
        'app/kustomization.yaml': yaml({ resources: ['../outside.yaml'] }),
        'outside.yaml': yaml(configMap('outside', { a: '1' })),
      },
      UNTRUSTED_RENDER,
    );
    assert.match(await failureOf(result), /security; file .* is not in or below/);
  });

  // A remote base on an address of this machine that is not loopback (Go's proxy settings spare loopback).
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  test('no remote base is fetched, though a deployment would fetch it', {
    skip: address === undefined ? 'no address here but loopback to serve a remote base on' : false,
  }, async () => {
    let fetched = 0;
    const server: Server = createServer((_request, response) => {
      fetched++;
      response.end(yaml(configMap('remote', { from: 'the network' })));
    });
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    const url = `http://${address}:${(server.address() as { port: number }).port}/remote.yaml`;
    try {
      const files = { 'app/kustomization.yaml': yaml({ resources: [url] }) };
      const deployed = await (await renderTree(files, DEPLOY_RENDER)).result;
      assert.deepEqual(
        deployed.map((o) => o.metadata.name),
        ['remote'],
        'the content renders where the network is allowed',
      );
      const before = fetched;
      assert.match(await failureOf((await renderTree(files, UNTRUSTED_RENDER)).result), /kustomize failed/);
      assert.equal(fetched, before, 'nothing reached the server');
    } finally {
      server.close();
    }
  });
});

describe('Helm on an untrusted head', () => {
  test('lookup finds nothing, even with a kubeconfig in Ferry’s environment', async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = await writeTestbedKubeconfig();
    try {
      const { result } = await renderTree(
        {
          'app/Chart.yaml': yaml({ apiVersion: 'v2', name: 'shop', version: '1.0.0' }),
          'app/templates/config.yaml':
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: looked-up\ndata:\n  namespaces: {{ lookup "v1" "Namespace" "" "" | toJson | quote }}\n',
        },
        UNTRUSTED_RENDER,
      );
      const [object] = await result;
      assert.deepEqual(object?.data, { namespaces: '{}' });
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });
});

describe('bounds', () => {
  test('a render that runs too long is stopped, saying so', async () => {
    const files = {
      'app/Chart.yaml': yaml({ apiVersion: 'v2', name: 'shop', version: '1.0.0' }),
      'app/templates/spin.yaml': '{{- range $i := until 100000000 }}{{- end }}\n',
    };
    const started = Date.now();
    const message = await failureOf(
      (await renderTree(files, { ...UNTRUSTED_RENDER, timeoutMs: 500 })).result,
    );
    assert.match(message, /helm template failed: it ran over 0\.5 s/);
    assert.ok(Date.now() - started < 10_000, 'stopped at the bound');
  });

  test('a render that prints too much is stopped, saying so', async () => {
    const files = {
      'app/kustomization.yaml': yaml({ resources: ['settings.yaml'] }),
      'app/settings.yaml': yaml(configMap('settings', { big: 'x'.repeat(10_000) })),
    };
    const limits = { ...UNTRUSTED_RENDER, maxOutputBytes: 4_096 };
    assert.match(await failureOf((await renderTree(files, limits)).result), /its output is over 4096 bytes/);
    assert.equal((await (await renderTree(files, UNTRUSTED_RENDER)).result).length, 1);
  });
});
