import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comparable, differs } from '../../functions/core/apply/diff.ts';
import { byStage, stageOf } from '../../functions/core/apply/order.ts';
import type { KubeObject } from '../../functions/core/objects.ts';

const live = (spec: unknown, managers = ['ferry']): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    resourceVersion: '7',
    generation: 3,
    uid: 'u',
    managedFields: managers.map((manager) => ({ manager })),
  },
  spec,
  status: { replicas: 2 },
});

describe('apply order', () => {
  test('definitions first, then classes, then the rest, admission webhooks last', () => {
    assert.equal(stageOf({ kind: 'CustomResourceDefinition' }), 'definitions');
    assert.equal(stageOf({ kind: 'Namespace' }), 'definitions');
    assert.equal(stageOf({ kind: 'ClusterRole' }), 'definitions');
    assert.equal(stageOf({ kind: 'StorageClass' }), 'classes');
    assert.equal(stageOf({ kind: 'IngressClass' }), 'classes');
    assert.equal(stageOf({ kind: 'Deployment' }), 'resources');
    assert.equal(stageOf({ kind: 'ValidatingWebhookConfiguration' }), 'webhooks');
    const kinds = ['ValidatingWebhookConfiguration', 'Deployment', 'Namespace', 'PriorityClass'];
    assert.deepEqual(
      byStage(kinds, (kind) => kind).map(([stage, items]) => [stage, items]),
      [
        ['definitions', ['Namespace']],
        ['classes', ['PriorityClass']],
        ['resources', ['Deployment']],
        ['webhooks', ['ValidatingWebhookConfiguration']],
      ],
    );
  });
});

describe('the differ shared by deploy and drift detection', () => {
  test('server-managed metadata and status are not differences', () => {
    const dryRun = {
      ...live({ replicas: 2 }),
      metadata: { ...live({}).metadata, resourceVersion: '8', generation: 4 },
      status: {},
    };
    assert.equal(differs(dryRun, live({ replicas: 2 })), false);
    assert.deepEqual(Object.keys(comparable(live({})).metadata), ['name']);
  });

  test('a changed field is a difference, unless an ignore rule names it', () => {
    assert.equal(differs(live({ replicas: 2 }), live({ replicas: 5 })), true);
    const rule = { group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] };
    assert.equal(differs(live({ replicas: 2 }), live({ replicas: 5 }), [rule]), false);
    assert.equal(differs(live({ replicas: 2 }), live({ replicas: 5 }), [{ ...rule, group: 'other' }]), true);
  });

  test('an object Ferry does not manage yet always needs an apply', () => {
    assert.equal(differs(live({ replicas: 2 }), live({ replicas: 2 }, ['kubectl'])), true);
    assert.equal(differs(live({ replicas: 2 }), undefined), true);
  });
});
