import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layerManifestTools } from '../../functions/adapters/tools/layer-tools.ts';
import { classify } from '../../functions/core/errors.ts';
import type { ManifestTools } from '../../functions/core/ports.ts';
import {
  MAX_PLAIN_MANIFEST_BYTES,
  parseManifests,
  RenderError,
  render,
} from '../../functions/core/source/render.ts';

describe('parsing manifests', () => {
  test('multi-document YAML and List kinds become objects; empty documents are skipped', () => {
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}',
      '',
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}',
    ].join('\n---\n');
    assert.deepEqual(
      parseManifests(text, 'x.yaml').map((o) => `${o.kind}/${o.metadata.name}`),
      ['ConfigMap/a', 'Secret/b'],
    );
  });

  test('a syntax error names the file, line and column', () => {
    assert.throws(
      () => parseManifests('a: 1\nb: [2\n', 'deploy/x.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof RenderError);
        assert.match(error.message, /^render failed: deploy\/x\.yaml:\d+:\d+: /);
        assert.equal(classify(error), 'rejected', "the revision's fault: not retried");
        return true;
      },
    );
  });

  test('a duplicate key, and aliases that would grow the document past reason, are refused with the line', () => {
    assert.throws(
      () => parseManifests('kind: ConfigMap\ndata:\n  a: "1"\n  a: "2"\n', 'dup.yaml'),
      /^RenderError: render failed: dup\.yaml:4:\d+: duplicated mapping key$/,
    );
    // Each level holds its predecessor ten times: printed, the last would be 10^12 strings long.
    const levels = Array.from(
      { length: 12 },
      (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`)}]`,
    );
    assert.throws(
      () => parseManifests(['l0: &l0 x', ...levels].join('\n'), 'laughs.yaml'),
      /^RenderError: render failed: laughs\.yaml:\d+:\d+: aliases exceeded maxAliases \(100\)$/,
    );
  });

  test('a document that is not a Kubernetes object names what is missing', () => {
    assert.throws(
      () => parseManifests('kind: ConfigMap\nmetadata: {name: a}\n', 'a.yaml'),
      /a\.yaml \(document 1\): apiVersion is missing/,
    );
    assert.throws(
      () => parseManifests('apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-}\n', 'a.yaml'),
      /a\.yaml \(document 1\): metadata\.generateName is not supported \(server-side apply needs a name\): set metadata\.name/,
    );
    assert.throws(
      () => parseManifests('apiVersion: v1\nkind: ConfigMap\n', 'a.yaml'),
      /metadata\.name is missing/,
    );
    assert.throws(() => parseManifests('- 1\n', 'a.yaml'), /not a Kubernetes object/);
  });
});

describe('rendering a directory', () => {
  let root: string;
  let tools: ManifestTools;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ferry-render-'));
    tools = await layerManifestTools();
  });
  after(() => rm(root, { recursive: true, force: true }));

  const write = async (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  };
  const request = (path: string) => ({ root, path, namespace: 'shop', releaseName: 'shop', valuesFiles: [] });

  test('plain manifests: every YAML and JSON file below the path, in path order; other files are ignored', async () => {
    await write({
      'plain/b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}',
      'plain/a/z.yml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}',
      'plain/c.json': '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}',
      'plain/README.md': '# not a manifest',
    });
    assert.deepEqual(
      (await render(request('plain'), tools)).map((o) => `${o.kind}/${o.metadata.name}`),
      ['ConfigMap/z', 'ConfigMap/b', 'Secret/c'],
    );
  });

  test('a path that is not a directory of the commit is a rejected render', async () => {
    await write({ 'file.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}' });
    for (const path of ['missing', 'file.yaml']) {
      await assert.rejects(render(request(path), tools), (error: unknown) => {
        assert.ok(error instanceof RenderError);
        assert.equal(classify(error), 'rejected');
        assert.match(error.message, new RegExp(`path ${path} is not a directory`));
        return true;
      });
    }
  });

  test('a plain directory of more manifest bytes than Ferry reads is refused before any is parsed', async () => {
    await write({
      'huge/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n',
      'huge/b.yaml': '',
    });
    // A sparse file: its size is what counts, and no test machine writes the bytes.
    await truncate(join(root, 'huge/b.yaml'), MAX_PLAIN_MANIFEST_BYTES);
    await assert.rejects(render(request('huge'), tools), (error: unknown) => {
      assert.ok(error instanceof RenderError);
      assert.equal(classify(error), 'rejected');
      assert.match(
        error.message,
        /huge holds 129 MiB of manifests, more than the 128 MiB Ferry reads; split it/,
      );
      return true;
    });
  });

  test('a Kustomize directory that does not build is a rejected render naming the tool', async () => {
    await write({ 'broken/kustomization.yaml': 'resources: [missing.yaml]\n' });
    await assert.rejects(render(request('broken'), tools), (error: unknown) => {
      assert.ok(error instanceof RenderError);
      assert.equal(classify(error), 'rejected');
      assert.match(error.message, /^render failed: kustomize failed: .*missing\.yaml/s);
      return true;
    });
  });
});
