import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comparable, differs, keepIgnoredLiveValues } from '../../functions/core/apply/diff.ts';
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

describe('ignored fields on apply', () => {
  const rule = { group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] };
  const desired = (spec: unknown, annotations?: Record<string, string>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', ...(annotations === undefined ? {} : { annotations }) },
    spec,
  });

  test('the live value at an ignored pointer is applied, so an apply does not undo an HPA', () => {
    const git = desired({ replicas: 2, template: { image: 'web:2' } });
    const applied = keepIgnoredLiveValues(git, live({ replicas: 5, template: { image: 'web:1' } }), [rule]);
    assert.deepEqual(applied.spec, { replicas: 5, template: { image: 'web:2' } });
    assert.deepEqual(
      git.spec,
      { replicas: 2, template: { image: 'web:2' } },
      'the desired object is left as it was',
    );
  });

  test("Git's value stands where no rule matches, the live object has no value, or there is no live object", () => {
    const git = desired({ replicas: 2 });
    assert.deepEqual(keepIgnoredLiveValues(git, live({ replicas: 5 }), [{ ...rule, group: 'other' }]), git);
    assert.deepEqual(keepIgnoredLiveValues(git, live({ replicas: 5 }), [{ ...rule, name: 'api' }]), git);
    assert.deepEqual(keepIgnoredLiveValues(git, live({}), [rule]), git);
    assert.deepEqual(keepIgnoredLiveValues(git, undefined, [rule]), git);
  });

  test('pointers are unescaped: an ignored annotation with a slash in its name keeps its live value', () => {
    const annotation = { ...rule, jsonPointers: ['/metadata/annotations/example.com~1owner'] };
    const liveObject = live({});
    liveObject.metadata.annotations = { 'example.com/owner': 'team-b' };
    const applied = keepIgnoredLiveValues(desired({}, { 'example.com/owner': 'team-a' }), liveObject, [
      annotation,
    ]);
    assert.deepEqual(applied.metadata.annotations, { 'example.com/owner': 'team-b' });
  });
});
