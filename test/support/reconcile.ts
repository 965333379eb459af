// Pull-mode fixtures: a deployed environment with a deploy queue in moto, checked as the reconciler would.
import assert from 'node:assert/strict';
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import type { PartKey } from '../../functions/core/model/part.ts';
import { checkEnvironment } from '../../functions/core/reconcile/check.ts';
import { createDeployQueue, receiveAll } from './aws.ts';
import { type DeployFixture, deployFixture } from './deploy.ts';
import { yaml } from './manifests.ts';
import { uniqueName } from './testbed.ts';

export type Fixture = DeployFixture & {
  queueUrl: string;
  check: (part?: 'app' | 'config') => ReturnType<typeof checkEnvironment>;
};

/** A deployed environment with a deploy queue in moto, checked as the reconciler would. */
export async function reconcileFixture(
  environment: Parameters<typeof deployFixture>[0] = {},
): Promise<Fixture> {
  const fixture = await deployFixture(environment);
  const queueUrl = await createDeployQueue();
  const deps = { ...fixture.deps, store: fixture.store, queue: new SqsJobQueue(queueUrl) };
  return {
    ...fixture,
    queueUrl,
    check: (part = 'app') =>
      checkEnvironment(
        {
          app: fixture.app,
          environment: 'staging',
          part,
          tickId: uniqueName('tick'),
          scheduledAt: new Date().toISOString(),
        },
        deps,
      ),
  };
}

export const keyOf = (fixture: { readonly app: string }, part: 'app' | 'config' = 'app'): PartKey => ({
  app: fixture.app,
  environment: 'staging',
  part,
});

/** Runs the jobs a check enqueued, as the worker would. */
export async function runQueuedJobs(fixture: Fixture): Promise<DeployJob[]> {
  const jobs = (await receiveAll<DeployJob>(fixture.queueUrl)).map((m) => m.body);
  for (const job of jobs) {
    const record = await deploy(job, fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
  }
  return jobs;
}

export async function firstDeploy(fixture: Fixture, files: Record<string, string>): Promise<string> {
  const commit = await fixture.workspace.commit({
    'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
    ...files,
  });
  await fixture.workspace.push();
  const record = await deploy(fixture.job(commit), fixture.deps);
  assert.equal(record.result, 'succeeded', record.message);
  return commit;
}
