// A stand-in for the deployment controller and the kubelets, for the development kit's kube-apiserver, which
// runs neither (and no container): Deployments are marked rolled out once their spec is applied.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesApi } from '../functions/adapters/kubernetes/api-client.ts';

/** Pods whose template carries this annotation never become ready. */
export const NEVER_READY = 'ferry.test/never-ready';

interface Deployment {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string };
  spec: { replicas?: number; template: { metadata?: { annotations?: Record<string, string> } } };
  status?: { observedGeneration?: number };
}

/**
 * Plays the deployment controller and the kubelets: every Deployment in the namespace (or in every namespace)
 * rolls out at once (its status is written through the status subresource), except those whose pod template
 * is annotated `ferry.test/never-ready`, which stay unavailable. A round (every `intervalMs`) that fails (the
 * API server restarting) is tried again.
 */
export function simulateRollouts(
  api: KubernetesApi,
  namespace?: string,
  { intervalMs = 100 }: { readonly intervalMs?: number } = {},
): { stop(): Promise<void> } {
  let running = true;
  const path =
    namespace === undefined
      ? '/apis/apps/v1/deployments'
      : `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const loop = (async () => {
    while (running) {
      const { items } = await api
        .request<{ items: Deployment[] }>({ method: 'GET', path })
        .catch(() => ({ items: [] as Deployment[] }));
      for (const deployment of items) {
        if (deployment.status?.observedGeneration !== deployment.metadata.generation) {
          await rollOut(api, deployment);
        }
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Writes the status a finished roll-out has (or, for a never-ready template, a stuck one). */
async function rollOut(api: KubernetesApi, deployment: Deployment): Promise<void> {
  const { generation, name, namespace } = deployment.metadata;
  const replicas = deployment.spec.replicas ?? 1;
  const ready = deployment.spec.template.metadata?.annotations?.[NEVER_READY] === undefined ? replicas : 0;
  await api
    .request({
      method: 'PUT',
      path: `/apis/apps/v1/namespaces/${namespace}/deployments/${name}/status`,
      body: {
        ...deployment,
        status: {
          observedGeneration: generation,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: ready,
          availableReplicas: ready,
          ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
          conditions: [
            { type: 'Available', status: ready === replicas ? 'True' : 'False', reason: 'Simulated' },
            { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
          ],
        },
      },
    })
    .catch(() => undefined); // a conflict: the next round sees the newer generation
}
