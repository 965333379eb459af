import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { healthOf } from '../../functions/core/apply/health.ts';
import type { KubeObject } from '../../functions/core/objects.ts';

const object = (kind: string, spec: unknown, status: unknown, generation = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name: 'x', generation },
  spec,
  status,
});

describe('health by kstatus rules', () => {
  test('a Deployment is Current only once its controller observed it and every replica is updated and available', () => {
    const spec = { replicas: 3 };
    const ready = {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    };
    assert.equal(healthOf(object('Deployment', spec, ready, 2)).status, 'Current');
    assert.equal(
      healthOf(object('Deployment', spec, { ...ready, observedGeneration: 1 }, 2)).status,
      'InProgress',
    );
    assert.equal(healthOf(object('Deployment', spec, {}, 2)).status, 'InProgress');
    assert.equal(
      healthOf(object('Deployment', spec, { ...ready, updatedReplicas: 2 }, 2)).status,
      'InProgress',
    );
    assert.equal(healthOf(object('Deployment', spec, { ...ready, replicas: 4 }, 2)).status, 'InProgress');
    assert.equal(
      healthOf(object('Deployment', spec, { ...ready, availableReplicas: 1 }, 2)).status,
      'InProgress',
    );
    const deadline = {
      ...ready,
      availableReplicas: 1,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
      ],
    };
    assert.deepEqual(healthOf(object('Deployment', spec, deadline, 2)), {
      status: 'Failed',
      message: 'too slow',
    });
  });

  test('StatefulSets wait for ready replicas and the current revision; OnDelete ones do not', () => {
    const spec = { replicas: 2 };
    const status = {
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 2,
      currentRevision: 'a',
      updateRevision: 'a',
    };
    assert.equal(healthOf(object('StatefulSet', spec, status)).status, 'Current');
    assert.equal(
      healthOf(object('StatefulSet', spec, { ...status, updateRevision: 'b' })).status,
      'InProgress',
    );
    assert.equal(healthOf(object('StatefulSet', spec, { ...status, readyReplicas: 1 })).status, 'InProgress');
    assert.equal(
      healthOf(
        object('StatefulSet', { ...spec, updateStrategy: { type: 'OnDelete' } }, { observedGeneration: 1 }),
      ).status,
      'Current',
    );
  });

  test('DaemonSets need every scheduled pod updated and available', () => {
    const status = {
      observedGeneration: 1,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    };
    assert.equal(healthOf(object('DaemonSet', {}, status)).status, 'Current');
    assert.equal(healthOf(object('DaemonSet', {}, { ...status, numberAvailable: 2 })).status, 'InProgress');
  });

  test('Jobs are Current when complete and Failed when failed', () => {
    assert.equal(
      healthOf(object('Job', {}, { conditions: [{ type: 'Complete', status: 'True' }] })).status,
      'Current',
    );
    assert.equal(
      healthOf(object('Job', {}, { conditions: [{ type: 'Failed', status: 'True', message: 'backoff' }] }))
        .status,
      'Failed',
    );
    assert.equal(healthOf(object('Job', {}, { active: 1 })).status, 'InProgress');
  });

  test('CRDs are Current once established; custom resources follow Ready, Reconciling and Stalled', () => {
    assert.equal(
      healthOf(
        object('CustomResourceDefinition', {}, { conditions: [{ type: 'Established', status: 'True' }] }),
      ).status,
      'Current',
    );
    assert.equal(healthOf(object('CustomResourceDefinition', {}, {})).status, 'InProgress');
    assert.equal(
      healthOf(object('Widget', {}, { conditions: [{ type: 'Ready', status: 'False' }] })).status,
      'InProgress',
    );
    assert.equal(
      healthOf(object('Widget', {}, { conditions: [{ type: 'Stalled', status: 'True', message: 'bad' }] }))
        .status,
      'Failed',
    );
    assert.equal(
      healthOf(
        object('Widget', {}, { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }, 2),
      ).status,
      'InProgress',
    );
    assert.equal(healthOf(object('ConfigMap', undefined, undefined)).status, 'Current');
  });

  test('PVCs are Current when bound; LoadBalancer Services once they have an ingress', () => {
    assert.equal(healthOf(object('PersistentVolumeClaim', {}, { phase: 'Pending' })).status, 'InProgress');
    assert.equal(healthOf(object('PersistentVolumeClaim', {}, { phase: 'Bound' })).status, 'Current');
    assert.equal(healthOf(object('Service', { type: 'LoadBalancer' }, {})).status, 'InProgress');
    assert.equal(
      healthOf(
        object('Service', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } }),
      ).status,
      'Current',
    );
    assert.equal(healthOf(object('Service', { type: 'ClusterIP' }, {})).status, 'Current');
  });
});
