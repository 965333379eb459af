import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests, RenderError } from '../../functions/core/deploy/render.ts';

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
        assert.match(error.message, /^deploy\/x\.yaml:\d+:\d+: /);
        return true;
      },
    );
  });

  test('a document that is not a Kubernetes object names what is missing', () => {
    assert.throws(
      () => parseManifests('kind: ConfigMap\nmetadata: {name: a}\n', 'a.yaml'),
      /a\.yaml \(document 1\): apiVersion is missing/,
    );
    assert.throws(
      () => parseManifests('apiVersion: v1\nkind: ConfigMap\n', 'a.yaml'),
      /metadata\.name is missing/,
    );
    assert.throws(() => parseManifests('- 1\n', 'a.yaml'), /not a Kubernetes object/);
  });
});
