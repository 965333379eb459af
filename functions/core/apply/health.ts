import type { KubeObject } from '../objects.ts';

/**
 * kstatus (sigs.k8s.io/cli-utils) statuses: Current is reconciled and healthy, InProgress is still rolling out,
 * Failed will not get better by waiting.
 */
export type HealthStatus = 'Current' | 'InProgress' | 'Failed';

export interface Health {
  readonly status: HealthStatus;
  readonly message: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

type Fields = Record<string, unknown>;

const num = (value: unknown, fallback = 0): number => (typeof value === 'number' ? value : fallback);
const current = (message = 'resource is current'): Health => ({ status: 'Current', message });
const inProgress = (message: string): Health => ({ status: 'InProgress', message });
const failed = (message: string): Health => ({ status: 'Failed', message });

function conditions(status: Fields): Condition[] {
  return Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
}

function condition(status: Fields, type: string): Condition | undefined {
  return conditions(status).find((c) => c.type === type);
}

/** The health of a live object by kstatus's rules. */
export function healthOf(object: KubeObject): Health {
  const status = (object.status ?? {}) as Fields;
  const spec = (object.spec ?? {}) as Fields;
  const generation = object.metadata.generation;
  if (
    generation !== undefined &&
    typeof status.observedGeneration === 'number' &&
    status.observedGeneration < generation
  ) {
    return inProgress(`generation ${generation} not yet observed`);
  }
  switch (object.kind) {
    case 'Deployment':
      return deploymentHealth(spec, status, generation);
    case 'StatefulSet':
      return statefulSetHealth(spec, status, generation);
    case 'DaemonSet':
      return daemonSetHealth(status, generation);
    case 'ReplicaSet':
      return replicasHealth(num(spec.replicas, 1), status, generation);
    case 'Job':
      return jobHealth(status);
    case 'CustomResourceDefinition':
      return crdHealth(status);
    case 'PersistentVolumeClaim':
      return status.phase === 'Bound'
        ? current()
        : inProgress(`PVC is ${String(status.phase ?? 'not bound')}`);
    case 'Pod':
      return podHealth(status);
    case 'Service':
      return spec.type === 'LoadBalancer' &&
        !Array.isArray((status.loadBalancer as Fields | undefined)?.ingress)
        ? inProgress('load balancer has no ingress yet')
        : current();
    case 'Namespace':
      return status.phase === 'Terminating' ? inProgress('namespace is terminating') : current();
    default:
      return genericHealth(status);
  }
}

function observed(status: Fields, generation: number | undefined): boolean {
  return generation === undefined || status.observedGeneration !== undefined;
}

function deploymentHealth(spec: Fields, status: Fields, generation: number | undefined): Health {
  if (!observed(status, generation)) return inProgress('deployment not yet observed by its controller');
  const progressing = condition(status, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return failed(progressing.message ?? 'progress deadline exceeded');
  const want = num(spec.replicas, 1);
  const updated = num(status.updatedReplicas);
  if (updated < want) return inProgress(`${updated} of ${want} replicas updated`);
  if (num(status.replicas) > updated)
    return inProgress(`${num(status.replicas) - updated} old replicas pending termination`);
  if (num(status.availableReplicas) < updated)
    return inProgress(`${num(status.availableReplicas)} of ${updated} updated replicas available`);
  if (num(status.readyReplicas) < want)
    return inProgress(`${num(status.readyReplicas)} of ${want} replicas ready`);
  if (want > 0 && condition(status, 'Available')?.status === 'False')
    return inProgress('deployment is not available');
  return current(`${want} replicas ready`);
}

function statefulSetHealth(spec: Fields, status: Fields, generation: number | undefined): Health {
  if (!observed(status, generation)) return inProgress('statefulset not yet observed by its controller');
  if ((spec.updateStrategy as Fields | undefined)?.type === 'OnDelete')
    return current('OnDelete update strategy');
  const want = num(spec.replicas, 1);
  if (num(status.replicas) < want) return inProgress(`${num(status.replicas)} of ${want} replicas created`);
  if (num(status.readyReplicas) < want)
    return inProgress(`${num(status.readyReplicas)} of ${want} replicas ready`);
  const partition = num(
    ((spec.updateStrategy as Fields | undefined)?.rollingUpdate as Fields | undefined)?.partition,
  );
  if (partition > 0) {
    return num(status.updatedReplicas) < want - partition
      ? inProgress('partitioned roll-out in progress')
      : current();
  }
  if (status.updateRevision !== status.currentRevision) return inProgress('roll-out in progress');
  return current(`${want} replicas ready`);
}

function daemonSetHealth(status: Fields, generation: number | undefined): Health {
  if (!observed(status, generation)) return inProgress('daemonset not yet observed by its controller');
  const desired = num(status.desiredNumberScheduled);
  if (num(status.currentNumberScheduled) < desired) return inProgress('pods not yet scheduled on every node');
  if (num(status.updatedNumberScheduled) < desired) return inProgress('pods not yet updated on every node');
  if (num(status.numberAvailable) < desired)
    return inProgress(`${num(status.numberAvailable)} of ${desired} pods available`);
  return current(`${desired} pods available`);
}

function replicasHealth(want: number, status: Fields, generation: number | undefined): Health {
  if (!observed(status, generation)) return inProgress('not yet observed by its controller');
  if (num(status.availableReplicas) < want)
    return inProgress(`${num(status.availableReplicas)} of ${want} replicas available`);
  return current();
}

function jobHealth(status: Fields): Health {
  const failedCondition = condition(status, 'Failed');
  if (failedCondition?.status === 'True') return failed(failedCondition.message ?? 'job failed');
  if (condition(status, 'Complete')?.status === 'True') return current('job completed');
  return inProgress('job is running');
}

function crdHealth(status: Fields): Health {
  const names = condition(status, 'NamesAccepted');
  if (names?.status === 'False') return failed(names.message ?? 'names not accepted');
  return condition(status, 'Established')?.status === 'True'
    ? current('established')
    : inProgress('not yet established');
}

function podHealth(status: Fields): Health {
  if (status.phase === 'Succeeded') return current('pod succeeded');
  if (status.phase === 'Failed') return failed(String(status.message ?? 'pod failed'));
  return condition(status, 'Ready')?.status === 'True' ? current('pod ready') : inProgress('pod not ready');
}

/** Custom resources: the `Stalled`, `Reconciling` and `Ready` conditions that kstatus reads. */
function genericHealth(status: Fields): Health {
  const stalled = condition(status, 'Stalled');
  if (stalled?.status === 'True') return failed(stalled.message ?? 'stalled');
  const reconciling = condition(status, 'Reconciling');
  if (reconciling?.status === 'True') return inProgress(reconciling.message ?? 'reconciling');
  const ready = condition(status, 'Ready');
  if (ready?.status === 'False') return inProgress(ready.message ?? 'not ready');
  return current();
}
