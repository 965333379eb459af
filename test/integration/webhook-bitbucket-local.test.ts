// Bitbucket Cloud and Bitbucket Data Center end to end in the local mode: a signed push delivery to the local
// server, the job on the local queue, the commit fetched from the test bed's Git server with the repository token
// (as Cloud's `x-token-auth` user, or Data Center's bearer token) and deployed to the real apiserver.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { JobWorker } from '../../functions/adapters/local/job-worker.ts';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { parseConfig } from '../../functions/core/config.ts';
import type { JobResult } from '../../functions/runtime/local.ts';
import { GitWorkspace } from '../support/git.ts';
import { type LocalServer, startLocalServer } from '../support/local-server.ts';
import { configMap, yaml } from '../support/manifests.ts';
import {
  createNamespaces,
  testbed,
  testbedKubeConfig,
  uniqueName,
  writeTestbedKubeconfig,
} from '../support/testbed.ts';
import { bitbucketDelivery } from '../support/webhooks.ts';

const SECRET = 'bitbucket-hook-secret-0123456789';
const HOSTS = ['bitbucket', 'bitbucket-server'] as const;
type Host = (typeof HOSTS)[number];

const api = new KubernetesApi(testbedKubeConfig());
const sites = new Map<Host, { app: string; namespace: string; workspace: GitWorkspace }>();
let server: LocalServer;
let worker: JobWorker<JobResult>;

before(async () => {
  for (const host of HOSTS) {
    const app = uniqueName(host);
    sites.set(host, {
      app,
      namespace: uniqueName('ns'),
      workspace: await GitWorkspace.create(`tests/${app}`),
    });
  }
  await createNamespaces(
    api,
    [...sites.values()].map((s) => s.namespace),
  );
  const kubeconfig = await writeTestbedKubeconfig();
  const config = parseConfig({
    repositories: [...sites].map(([provider, site]) => ({
      name: site.app,
      url: site.workspace.url,
      provider,
      webhookSecret: 'ferry/bitbucket/webhook',
      tokenSecret: 'ferry/bitbucket/token',
    })),
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [...sites.values()].map((site) => ({
      name: site.app,
      repository: site.app,
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'testbed', namespace: site.namespace, trigger: { branches: ['main'] } },
      ],
    })),
  });
  const secrets = new LocalSecretSource({
    env: {
      FERRY_SECRET_FERRY_BITBUCKET_WEBHOOK: SECRET,
      FERRY_SECRET_FERRY_BITBUCKET_TOKEN: testbed().gitToken,
    },
  });
  const logger = createLogger({ write: () => undefined });
  server = await startLocalServer({ config, secrets, logger, name: 'bitbucket' });
  worker = server.runtime.worker({ concurrency: 2 });
  worker.start();
});

after(async () => {
  await worker?.stop();
  await server?.close();
  api.close();
  await Promise.all([...sites.values()].map((s) => s.workspace.remove()));
});

const fixture = async (name: string) =>
  JSON.parse(await readFile(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8'));

/** A Bitbucket Cloud push of `after` to main, in the repository at `url`, built on the documented fixture. */
async function cloudPush(url: string, before: string, after: string) {
  const payload = await fixture('bitbucket-push');
  const [change] = payload.push.changes;
  change.old.target.hash = before;
  change.new.target.hash = after;
  change.new.name = 'main';
  change.old.name = 'main';
  payload.repository.links.html.href = url.replace(/\.git$/, '');
  return payload;
}

/** A Bitbucket Data Center push of `after` to main, whose HTTP clone URL is `url`. */
async function serverPush(url: string, before: string, after: string) {
  const payload = await fixture('bitbucket-server-push');
  payload.changes = [
    {
      ref: { id: 'refs/heads/main', displayId: 'main', type: 'BRANCH' },
      refId: 'refs/heads/main',
      fromHash: before,
      toHash: after,
      type: 'UPDATE',
    },
  ];
  payload.repository.links.clone = [{ href: url, name: 'http' }];
  return payload;
}

async function liveValue(namespace: string): Promise<string | undefined> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const live = await api
      .request<{ data: { v: string } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${namespace}/configmaps/settings`,
      })
      .catch(() => undefined);
    if (live !== undefined) return live.data.v;
    await sleep(200);
  }
  return undefined;
}

describe('Bitbucket in the local mode', () => {
  for (const host of HOSTS) {
    test(`a signed ${host} push is verified, enqueued, fetched with the repository token and deployed; a forged one is 401`, async () => {
      const site = sites.get(host);
      assert.ok(site !== undefined);
      const first = await site.workspace.commit({
        'deploy/cm.yaml': yaml(configMap('settings', { v: host })),
      });
      await site.workspace.push();
      const build = host === 'bitbucket' ? cloudPush : serverPush;
      const payload = await build(site.workspace.url, '0'.repeat(40), first);
      const delivery = bitbucketDelivery(payload, { secret: SECRET, server: host === 'bitbucket-server' });
      const answer = await fetch(`${server.http.url}/webhook`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      const body = (await answer.json()) as { jobs?: { group: string; commit: string }[] };
      assert.equal(answer.status, 202, JSON.stringify(body));
      assert.deepEqual(
        body.jobs?.map((j) => [j.group, j.commit]),
        [[`${site.app}/staging/app`, first]],
      );
      assert.equal(await liveValue(site.namespace), host, 'deployed on the apiserver');
      const forged = bitbucketDelivery(payload, {
        secret: 'not-the-secret',
        server: host === 'bitbucket-server',
      });
      const refused = await fetch(`${server.http.url}/webhook`, {
        method: 'POST',
        headers: forged.headers,
        body: forged.body,
      });
      assert.equal(refused.status, 401);
    });
  }
});
