// Commit statuses on a real Gitea, end to end: a repository in the test bed's Gitea with a hook pointing at the
// local mode's server (the real intake, worker and reporters), a `git push`, the delivery sent by Gitea itself,
// the deployment on the real kube-apiserver, and the statuses read back from Gitea's API on that commit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { RunningHttpServer } from '../../functions/adapters/local/http-server.ts';
import type { JobWorker } from '../../functions/adapters/local/job-worker.ts';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { parseConfig } from '../../functions/core/config.ts';
import type { JobResult, LocalRuntime } from '../../functions/runtime/local.ts';
import { stagingApp } from '../support/deploy.ts';
import {
  type CommitStatus,
  GiteaClient,
  type GiteaRepository,
  type GiteaWorkspace,
} from '../support/gitea.ts';
import { type LocalServer, startLocalServer } from '../support/local-server.ts';
import { configMap, yaml } from '../support/manifests.ts';
import {
  createNamespaces,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../support/testbed.ts';

const gitea = new GiteaClient();
const api = new KubernetesApi(testbedKubeConfig());
const WEBHOOK_SECRET = 'gitea-hook-secret-0123456789abcdef';
/** One app per scenario, each deploying its own Gitea repository to a namespace of its own. */
const SCENARIOS = ['push', 'rejected', 'superseded'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Site {
  readonly app: string;
  readonly namespace: string;
  readonly repository: GiteaRepository;
  readonly workspace: GiteaWorkspace;
}

const sites = new Map<Scenario, Site>();
let server: LocalServer;
let runtime: LocalRuntime;
let http: RunningHttpServer;
let worker: JobWorker<JobResult> | undefined;

async function createSite(scenario: Scenario): Promise<Site> {
  const repository = await gitea.createRepository();
  const workspace = await gitea.workspace(repository);
  return { app: uniqueName(scenario), namespace: uniqueName('ns'), repository, workspace };
}

before(async () => {
  for (const scenario of SCENARIOS) sites.set(scenario, await createSite(scenario));
  await createNamespaces(
    api,
    [...sites.values()].map((s) => s.namespace),
  );
  const kubeconfig = await writeTestbedKubeconfig();
  const config = parseConfig({
    repositories: [...sites.values()].map((site) => ({
      name: site.app,
      url: site.repository.cloneUrl,
      provider: 'gitea',
      webhookSecret: 'ferry/gitea/webhook',
      tokenSecret: 'ferry/gitea/token',
    })),
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [...sites.values()].map((site) =>
      stagingApp({
        app: site.app,
        repository: site.app,
        namespace: site.namespace,
        environment: { healthTimeoutSeconds: 20 },
      }),
    ),
  });
  const secrets = new LocalSecretSource({
    env: {
      FERRY_SECRET_FERRY_GITEA_WEBHOOK: WEBHOOK_SECRET,
      // The test bed's token has Gitea's write:repository scope: it reads the repository and posts statuses.
      FERRY_SECRET_FERRY_GITEA_TOKEN: gitea.settings.token,
    },
  });
  const logger = createLogger({ write: () => undefined });
  server = await startLocalServer({ config, secrets, logger, name: 'status-gitea' });
  ({ runtime, http } = server);
  for (const site of sites.values())
    await gitea.createHook(site.repository, { url: `${http.url}/webhook`, secret: WEBHOOK_SECRET });
});

after(async () => {
  await worker?.stop();
  await server?.close();
  api.close();
  await Promise.all([...sites.values()].map((s) => s.workspace.remove()));
});

function startWorker(): void {
  worker = runtime.worker({ concurrency: 2 });
  worker.start();
}

/** The commit's statuses from Ferry's context, oldest first, once `done` holds of them (or the time is up). */
async function statusesWhen(
  site: Site,
  commit: string,
  done: (statuses: CommitStatus[]) => boolean,
  timeoutMs = 60_000,
): Promise<CommitStatus[]> {
  const context = `ferry/${site.app}/staging`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = (await gitea.statuses(site.repository, commit))
      .filter((s) => s.context === context)
      .reverse();
    if (done(statuses) || Date.now() > deadline) return statuses;
    await sleep(250);
  }
}

const summary = (statuses: CommitStatus[]) => statuses.map((s) => [s.status, s.description]);
const site = (scenario: Scenario) => sites.get(scenario) as Site;

describe('Ferry on a real Gitea', () => {
  test('a push shows pending on its commit, then success, linking to the status page', async () => {
    startWorker();
    const { workspace, repository, namespace } = site('push');
    const commit = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { mode: 'one' })),
    });
    await workspace.push();
    const statuses = await statusesWhen(site('push'), commit, (s) => s.at(-1)?.status === 'success');
    assert.deepEqual(statuses.at(0)?.status, 'pending');
    assert.equal(statuses.at(0)?.description, 'queued', 'pending as soon as the delivery is enqueued');
    assert.equal(statuses.at(-1)?.status, 'success', JSON.stringify(summary(statuses)));
    assert.match(statuses.at(-1)?.description ?? '', /^1 applied in \d+\.\d s$/);
    assert.equal(statuses.at(-1)?.target_url, `${http.url}/parts/${site('push').app}/staging/app`);
    assert.equal(statuses.at(-1)?.creator?.login, gitea.settings.user);
    const live = await api.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/settings`,
    });
    assert.deepEqual(live.data, { mode: 'one' });
    const combined = await gitea.combinedStatus(repository, commit);
    assert.equal(combined.state, 'success');
    assert.equal(runtime.failedStatusPosts, 0);
  });

  test('a rejected revision shows failure with the reason', async () => {
    const { workspace } = site('rejected');
    const bad = { ...configMap('Not_A_Valid_Name', { mode: 'two' }) };
    const commit = await workspace.commit({ 'deploy/settings.yaml': yaml(bad) });
    await workspace.push();
    const statuses = await statusesWhen(site('rejected'), commit, (s) => s.at(-1)?.status === 'failure');
    assert.equal(statuses.at(-1)?.status, 'failure', JSON.stringify(summary(statuses)));
    assert.match(statuses.at(-1)?.description ?? '', /^rejected: .*Not_A_Valid_Name/);
    assert.equal(statuses.at(0)?.status, 'pending');
  });

  test('a commit the worker never deployed, a newer one of its branch being there first, shows superseded', async () => {
    await worker?.stop();
    const { workspace } = site('superseded');
    const first = await workspace.commit({ 'deploy/settings.yaml': yaml(configMap('settings', { v: '1' })) });
    await workspace.push();
    await statusesWhen(site('superseded'), first, (s) => s.length > 0);
    const second = await workspace.commit({
      'deploy/settings.yaml': yaml(configMap('settings', { v: '2' })),
    });
    await workspace.push();
    await statusesWhen(site('superseded'), second, (s) => s.length > 0);
    // Both deliveries are queued; the worker takes the first job, follows main to the second commit and
    // deploys that.
    startWorker();
    const onSecond = await statusesWhen(site('superseded'), second, (s) => s.at(-1)?.status === 'success');
    assert.equal(onSecond.at(-1)?.status, 'success', JSON.stringify(summary(onSecond)));
    const onFirst = await statusesWhen(site('superseded'), first, (s) => s.length > 1);
    assert.deepEqual(summary(onFirst), [
      ['pending', 'queued'],
      ['success', `superseded by ${second.slice(0, 7)}`],
    ]);
  });
});
