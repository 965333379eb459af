// A manual job deployed by the command itself: a local state directory that no server runs on. The job is queued
// behind the part's others and deployed, with them, by a worker of that part only, wired as `ferry serve` wires
// its own (`functions/runtime/local.ts`).
import type { JobOutcome } from '../functions/adapters/local/job-worker.ts';
import { createLogger } from '../functions/adapters/local/logger.ts';
import type { DeployJob } from '../functions/core/model/job.ts';
import { partId } from '../functions/core/model/part.ts';
import type { DeploymentRecord } from '../functions/core/model/records.ts';
import { type JobResult, LocalRuntime, openLocalState } from '../functions/runtime/local.ts';
import { err, out } from './cli.ts';
import { type ManualPart, requireConfig } from './install.ts';

export type HereOutcome =
  | { readonly kind: 'done'; readonly record: DeploymentRecord }
  | { readonly kind: 'dead'; readonly error: string };

export async function deployHere(part: ManualPart, job: DeployJob): Promise<HereOutcome> {
  const { target } = part;
  if (target.stateDir === undefined) throw new Error('only a local state directory deploys here');
  const state = openLocalState(target.stateDir);
  const runtime = await LocalRuntime.start(state, {
    config: requireConfig(target),
    secrets: await target.secrets(),
    logger: createLogger({ format: 'text', write: err }),
  });
  try {
    const outcome = await runJob(runtime, state.queue, job);
    if (outcome.kind === 'dead') return { kind: 'dead', error: outcome.error };
    // A deploy job's result is its deployment record (a plan job's would be a plan report).
    const { result } = outcome;
    if (!('jobId' in result)) throw new Error(`job ${job.id} ended without a deployment record`);
    return { kind: 'done', record: result };
  } finally {
    await runtime.close();
    state.close();
  }
}

/** Queues the job behind the part's others and deploys them with a worker of that part only. */
async function runJob(
  runtime: LocalRuntime,
  queue: ReturnType<typeof openLocalState>['queue'],
  job: DeployJob,
): Promise<Exclude<JobOutcome<JobResult>, { kind: 'retry' }>> {
  const group = partId(job);
  let id: number | undefined;
  let settle: ((outcome: Exclude<JobOutcome<JobResult>, { kind: 'retry' }>) => void) | undefined;
  const settled = new Promise<Exclude<JobOutcome<JobResult>, { kind: 'retry' }>>((resolve) => {
    settle = resolve;
  });
  const worker = runtime.worker({
    group,
    onSettled: (claimed, outcome) => {
      if (claimed.id === id && outcome.kind !== 'retry') settle?.(outcome);
    },
  });
  [id] = queue.add([job]);
  const ahead = queue.pending().filter((p) => p.group === group && p.id !== id).length;
  if (ahead > 0) out(`(after ${ahead} queued job(s) of the part)`);
  worker.start();
  const outcome = await settled;
  await worker.stop();
  return outcome;
}
