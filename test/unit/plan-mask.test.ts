// A plan never shows a Secret's values: the deploy engine's differ masks `data` and `stringData`, and the plan
// masks what else can carry them (annotations, kubectl's last-applied one included, and metadata changed whole);
// other kinds' values show as they are.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../functions/core/objects.ts';
import { masked } from '../../functions/core/plan/plan.ts';
import { changesOf } from '../../functions/core/reconcile/drift.ts';

const PASSWORD = 'correct-horse-battery-staple';
const encoded = Buffer.from(PASSWORD).toString('base64');

const secret = (metadata: Record<string, unknown>, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'credentials', namespace: 'shop', ...metadata },
  data,
});

describe("a plan's field changes of a Secret", () => {
  test('data, annotations (the last-applied one whole, or added at once) and metadata: masked', () => {
    const lastApplied = JSON.stringify({ data: { password: encoded } });
    const cases: [KubeObject, KubeObject][] = [
      [secret({}, { password: 'b2xk' }), secret({}, { password: encoded })],
      [
        secret({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }, {}),
        secret({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }, {}),
      ],
      [secret({}, {}), secret({ annotations: { note: PASSWORD } }, {})],
    ];
    for (const [live, desired] of cases) {
      const changes = masked('Secret', changesOf(live, desired, []));
      assert.ok(changes.length > 0);
      const shown = JSON.stringify(changes);
      assert.ok(!shown.includes(PASSWORD) && !shown.includes(encoded), shown);
      assert.ok(
        changes.every((c) => c.desired === '(masked)'),
        shown,
      );
    }
  });

  test("labels stay readable, and other kinds' values show", () => {
    const live = secret({ labels: { tier: 'a' } }, {});
    const desired = secret({ labels: { tier: 'b' } }, {});
    assert.deepEqual(masked('Secret', changesOf(live, desired, [])), [
      { path: '/metadata/labels/tier', live: 'a', desired: 'b' },
    ]);
    const config = { path: '/data/message', live: 'hello', desired: 'hello again' };
    assert.deepEqual(masked('ConfigMap', [config]), [config]);
  });
});
