// Roll-outs on the test bed's apiserver, which runs no controllers: the development kit's stand-in for the
// deployment controller (devkit/rollouts.ts, shared with the demo), and here the Job controller's.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulateRollouts as simulateDeployments } from '../../devkit/rollouts.ts';
import type { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';

export { NEVER_READY } from '../../devkit/rollouts.ts';

/** A Job annotated `ferry.test/fail: "true"` (or whose pod template is) fails: its pods exit 1. */
export const FAIL = 'ferry.test/fail';
/** The termination message the failed pods of such a Job leave. */
export const FAIL_MESSAGE = 'ferry.test/fail-message';
/** How many seconds a Job runs before it completes or fails (default 0). */
export const RUN_SECONDS = 'ferry.test/run-seconds';

/**
 * Plays the deployment controller and the Job controller (with their kubelets) in one namespace: Deployments
 * roll out at once (see devkit/rollouts.ts); each Job starts, runs for its `ferry.test/run-seconds`, and ends
 * with a pod per attempt and the status the Job controller writes.
 */
export function simulateRollouts(api: KubernetesApi, namespace: string): { stop(): Promise<void> } {
  const deployments = simulateDeployments(api, namespace);
  const jobs = simulateJobs(api, namespace);
  return {
    async stop() {
      await Promise.all([deployments.stop(), jobs.stop()]);
    },
  };
}

interface Container {
  readonly name: string;
  readonly image: string;
}

interface Job {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  spec: {
    backoffLimit?: number;
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: readonly Container[] };
    };
  };
  status?: { startTime?: string; conditions?: readonly { type: string; status: string }[] };
}

const finished = (job: Job) =>
  job.status?.conditions?.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  ) ?? false;

const annotation = (job: Job, key: string) =>
  job.metadata.annotations?.[key] ?? job.spec.template.metadata?.annotations?.[key];

function simulateJobs(api: KubernetesApi, namespace: string): { stop(): Promise<void> } {
  let running = true;
  const started = new Map<string, number>();
  const loop = (async () => {
    while (running) {
      const { items } = await api
        .request<{ items: Job[] }>({ method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs` })
        .catch(() => ({ items: [] as Job[] }));
      for (const job of items.filter((j) => !finished(j))) {
        const since = started.get(job.metadata.uid);
        if (since === undefined) {
          if (await writeJobStatus(api, job, { active: 1, ready: 1 }))
            started.set(job.metadata.uid, Date.now());
        } else if (Date.now() - since >= Number(annotation(job, RUN_SECONDS) ?? 0) * 1000) {
          await finish(api, job);
        }
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Writes the Job's status through its status subresource; false on a conflict (the next round tries again). */
async function writeJobStatus(
  api: KubernetesApi,
  job: Job,
  status: Record<string, unknown>,
): Promise<boolean> {
  const startTime = job.status?.startTime ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return api
    .request({
      method: 'PUT',
      path: `/apis/batch/v1/namespaces/${job.metadata.namespace}/jobs/${job.metadata.name}/status`,
      body: { ...job, status: { startTime, terminating: 0, uncountedTerminatedPods: {}, ...status } },
    })
    .then(
      () => true,
      () => false,
    );
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Ends a Job as its controller does: a pod per attempt (one that succeeded, or one per try up to the backoff
 * limit, each exited 1), then the conditions: SuccessCriteriaMet and Complete, or FailureTarget and Failed.
 */
async function finish(api: KubernetesApi, job: Job): Promise<void> {
  const fails = annotation(job, FAIL) === 'true';
  const attempts = fails ? (job.spec.backoffLimit ?? 6) + 1 : 1;
  for (let attempt = 0; attempt < attempts; attempt++) await runPod(api, job, fails);
  const at = now();
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastProbeTime: at,
    lastTransitionTime: at,
  });
  const status = fails
    ? {
        active: 0,
        ready: 0,
        failed: attempts,
        conditions: [
          condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        ],
      }
    : {
        active: 0,
        ready: 0,
        succeeded: 1,
        completionTime: at,
        conditions: [
          condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        ],
      };
  await writeJobStatus(api, job, status);
}

/** A pod of the Job, as its controller creates it, ended as its kubelet reports it: exit 0, or 1 for a failure. */
async function runPod(api: KubernetesApi, job: Job, fails: boolean): Promise<void> {
  const { name, namespace, uid } = job.metadata;
  const { template } = job.spec;
  const path = `/api/v1/namespaces/${namespace}/pods`;
  const pod = await api.request<Record<string, unknown>>({
    method: 'POST',
    path,
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        labels: template.metadata?.labels ?? {},
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: template.spec,
    },
  });
  const message = annotation(job, FAIL_MESSAGE);
  const at = now();
  const terminated = fails
    ? { exitCode: 1, reason: 'Error', ...(message === undefined ? {} : { message }) }
    : { exitCode: 0, reason: 'Completed' };
  const podName = (pod.metadata as { name: string }).name;
  await api.request({
    method: 'PUT',
    path: `${path}/${podName}/status`,
    body: {
      ...pod,
      status: {
        phase: fails ? 'Failed' : 'Succeeded',
        startTime: at,
        containerStatuses: template.spec.containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated: { ...terminated, startedAt: at, finishedAt: at } },
        })),
      },
    },
  });
}
