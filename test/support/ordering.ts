// Fixtures for ordering tests: hook Jobs, the times the API server recorded for objects, and configurations of
// several apps and environments on one test bed fixture.
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import type { DeployFixture } from './deploy.ts';

/** A Job that runs one container; `annotations` go on the Job, `pod` on its pod template. */
export const job = (
  name: string,
  annotations: Record<string, string> = {},
  pod: Record<string, string> = {},
) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, annotations },
  spec: {
    backoffLimit: 1,
    template: {
      metadata: { annotations: pod },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37' }] },
    },
  },
});

interface Timed {
  metadata: {
    creationTimestamp: string;
    managedFields?: { manager: string; operation: string; time: string; subresource?: string }[];
  };
  status?: { completionTime?: string; conditions?: { type: string; lastTransitionTime?: string }[] };
}

/** When Ferry last applied the object (its field manager's entry), in ms. */
export function appliedAt(object: Timed): number {
  const entry = object.metadata.managedFields?.find(
    (f) => f.manager === 'ferry' && f.subresource === undefined,
  );
  if (entry === undefined) throw new Error('the object has no entry of the ferry field manager');
  return Date.parse(entry.time);
}

export const createdAt = (object: Timed): number => Date.parse(object.metadata.creationTimestamp);

/** When a Job completed or failed, in ms. */
export function finishedAt(object: Timed): number {
  const end = object.status?.conditions?.find((c) => c.type === 'Complete' || c.type === 'Failed');
  if (end?.lastTransitionTime === undefined) throw new Error('the Job has not finished');
  return Date.parse(end.lastTransitionTime);
}

/** `{ "Job ns/x": "hook-succeeded", ... }` of a record, namespaces replaced by `ns`. */
export const actionsOf = (record: DeploymentRecord, namespace: string): Record<string, string> =>
  Object.fromEntries(record.objects.map((o) => [o.object.replace(`${namespace}/`, 'ns/'), o.action]));

type AppInput = ConfigInput['apps'][number];
type EnvironmentInput = AppInput['environments'][number];

/**
 * The fixture's configuration with other apps, or other environments of its app, beside its own: each a
 * partial environment on the test bed's cluster (namespace and trigger default to the fixture's own).
 */
export function withApps(
  fixture: DeployFixture,
  apps: Record<string, { path: string; environments: Record<string, Partial<EnvironmentInput>> }>,
): DeployFixture['deps'] {
  const config = fixture.deps.config;
  const [own] = config.apps;
  if (own === undefined) throw new Error('the fixture has no app');
  const [staging] = own.environments;
  const base = { cluster: 'testbed', namespace: fixture.namespace, healthTimeoutSeconds: 10 };
  const configured = Object.entries(apps).map(([name, app]) => ({
    name,
    repository: own.repository,
    path: app.path,
    environments: Object.entries(app.environments).map(([envName, env]) => ({
      ...base,
      ...(env.follow === undefined ? { trigger: staging?.trigger } : {}),
      name: envName,
      ...env,
    })),
  }));
  const others = configured.filter((app) => app.name !== own.name);
  const mine = configured.find((app) => app.name === own.name);
  return {
    ...fixture.deps,
    config: parseConfig({
      ...config,
      apps: [mine === undefined ? own : { ...own, environments: mine.environments }, ...others],
    }),
  };
}
