// The local mode end to end: `node bin/ferry.ts serve` as a child process, with its state in a temporary
// directory, a kubeconfig cluster for the test bed's apiserver and a repository of the test bed's Git server.
// Deliveries are signed as GitHub signs them and POSTed to the server's /webhook.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { EnvironmentStatus, StatusReport } from '../../functions/adapters/local/status.ts';
import { ferry, userEnvironment } from '../support/cli.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { NEVER_READY } from '../support/rollout.ts';
import { ServeProcess, type ServeSite, serveSite, siteOptions } from '../support/serve.ts';
import { testbed, testbedKubeConfig, uniqueName } from '../support/testbed.ts';
import { githubDelivery, githubPush } from '../support/webhooks.ts';

const WEBHOOK_SECRET = uniqueName('hook-secret');
const TIMEOUT = { timeout: 180_000 };

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

interface Site extends ServeSite {
  /** The environment of the server and CLI: the webhook secret in a variable, the Git token in the file. */
  readonly env: NodeJS.ProcessEnv;
}

/** A fresh app with one environment, its repository (and one whose secret is set nowhere) and its files. */
async function site(environment: Record<string, unknown> = {}): Promise<Site> {
  const served = await serveSite({
    webhookSecret: 'local/webhook',
    tokenSecret: 'local/git-token',
    environment,
    // Its webhook secret is set nowhere: its deliveries get 500, which makes the host retry.
    repositories: [
      {
        name: 'unset',
        url: 'https://github.com/acme/unset.git',
        provider: 'github',
        webhookSecret: 'local/unset',
      },
    ],
  });
  return { ...served, env: userEnvironment({ FERRY_SECRET_LOCAL_WEBHOOK: WEBHOOK_SECRET }) };
}

const namespaceManifest = (s: Site) =>
  yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.namespace } });

/** The ConfigMap every test deploys, with its value `v`. */
const settings = (v: string) => ({ 'deploy/cm.yaml': yaml(configMap('settings', { v })) });

/** Commits the files and pushes them to main; returns the commit. */
async function push(s: Site, files: Record<string, string | null>): Promise<string> {
  const commit = await s.workspace.commit(files);
  await s.workspace.push();
  return commit;
}

/** The first commit of a site: its namespace and the ConfigMap at 1. */
const pushFirst = (s: Site) => push(s, { 'deploy/ns.yaml': namespaceManifest(s), ...settings('1') });

/** A fresh site with its first commit pushed, and `ferry serve` running on it with the options. */
async function serving(options: string[]): Promise<{ s: Site; first: string; server: Server }> {
  const s = await site();
  const first = await pushFirst(s);
  return { s, first, server: await Server.start(s, options, s.env) };
}

/** A running `ferry serve`, with what the tests ask of its routes. */
class Server extends ServeProcess {
  async webhook(delivery: { headers: Record<string, string>; body: string }) {
    const response = await fetch(`${this.url}/webhook`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async status(): Promise<StatusReport> {
    const response = await fetch(`${this.url}/status`);
    assert.equal(response.status, 200);
    return (await response.json()) as StatusReport;
  }

  /** Waits until the app's staging part is as `holds` says, and returns its status. */
  part(app: string, what: string, holds: (part: EnvironmentStatus) => boolean): Promise<EnvironmentStatus> {
    return eventually(what, async () => {
      const part = partOf(await this.status(), app);
      return holds(part) ? part : undefined;
    });
  }
}

async function configMapValue(namespace: string, name: string): Promise<string | undefined> {
  try {
    const live = await api.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    });
    return live.data?.v;
  } catch {
    return undefined;
  }
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== undefined) return last;
    await sleep(200);
  }
  throw new Error(`timed out waiting until ${what}`);
}

const partOf = (report: StatusReport, app: string) => {
  const found = report.environments.find(
    (e) => e.app === app && e.environment === 'staging' && e.part === 'app',
  );
  assert.ok(found, `status lists ${app}/staging`);
  return found;
};

/** What the server answers before any deployment: health, routes, and each delivery it must refuse. */
async function refusesWhatItMust(server: Server, payload: Record<string, unknown>): Promise<void> {
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
  assert.equal((await fetch(`${server.url}/nowhere`)).status, 404);
  assert.equal((await fetch(`${server.url}/webhook`)).status, 405);

  const forged = await server.webhook(githubDelivery(payload, { secret: 'not-the-secret' }));
  assert.equal(forged.status, 401);
  const wrongType = await server.webhook({
    headers: { 'content-type': 'text/plain', 'x-github-event': 'push' },
    body: 'hello',
  });
  assert.equal(wrongType.status, 415);
  const malformed = await server.webhook({
    // Gitea: none is configured, so no webhook secret is read first (the unset GitHub one would answer 500).
    headers: { 'content-type': 'application/json', 'x-gitea-event': 'push' },
    body: '{"ref":',
  });
  assert.equal(malformed.status, 400);
  const oversized = await server.webhook(
    githubDelivery({ ...payload, padding: 'x'.repeat(1024 * 1024) }, { secret: WEBHOOK_SECRET }),
  );
  assert.equal(oversized.status, 413);
  assert.match(String(oversized.body.error), /over the limit of 1048576/);
  const unset = await server.webhook(
    githubDelivery(
      { ...payload, repository: { clone_url: 'https://github.com/acme/unset.git' } },
      { secret: WEBHOOK_SECRET },
    ),
  );
  assert.equal(unset.status, 500);
  assert.match(String(unset.body.error), /^the webhook secret could not be read/);
}

/** A signed delivery is deployed; its redelivery is acknowledged and deployed no second time. */
async function deploysOnce(server: Server, s: Site, payload: Record<string, unknown>, first: string) {
  const delivery = githubDelivery(payload, { secret: WEBHOOK_SECRET });
  const accepted = await server.webhook(delivery);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.deepEqual(
    (accepted.body.jobs as { commit: string; group: string }[]).map((j) => [j.commit, j.group]),
    [[first, `${s.app}/staging/app`]],
  );
  await eventually('the ConfigMap is applied', async () =>
    (await configMapValue(s.namespace, 'settings')) === '1' ? true : undefined,
  );
  const deployed = await server.part(
    s.app,
    'the status shows the commit',
    (env) => env.lastApplied?.commit === first,
  );
  assert.equal(deployed.sync.status, 'Synced');
  assert.equal(deployed.configured, true);
  assert.deepEqual(
    deployed.deployments.map((d) => [d.commit, d.result, d.trigger.kind]),
    [[first, 'succeeded', 'push']],
  );

  // GitHub redelivers with the same X-GitHub-Delivery: acknowledged, not deployed again.
  const redelivered = await server.webhook(delivery);
  assert.equal(redelivered.status, 200);
  assert.equal(redelivered.body.ignored, 'delivery already handled');
  await sleep(1500);
  const afterRedelivery = await server.status();
  assert.equal(partOf(afterRedelivery, s.app).deployments.length, 1, 'deployed once');
  assert.equal(afterRedelivery.queue.queued + afterRedelivery.queue.running, 0);
}

/**
 * `ferry deploy <sha>` while the server runs: the job is queued for the server, which rolls back to the commit
 * and pins the part there.
 */
async function rollsBackThroughTheServer(server: Server, s: Site, commit: string): Promise<void> {
  const enqueued = await ferry(['deploy', s.app, 'staging', commit, ...siteOptions(s)], { env: s.env });
  assert.equal(enqueued.code, 0, enqueued.stderr);
  assert.match(enqueued.stdout, /Enqueued job \w+ to deploy .*\nThe server \(pid \d+/);
  const rolledBack = await server.part(
    s.app,
    'the rollback is applied',
    (env) => env.lastApplied?.commit === commit,
  );
  assert.deepEqual(rolledBack.deployments[0]?.trigger, {
    kind: 'manual',
    requestedBy: userInfo().username,
    pin: true,
    overrideDeletionBudget: false,
  });
  assert.equal(rolledBack.deployments[0]?.result, 'succeeded', 'an older commit, applied');
  assert.equal(rolledBack.pin?.commit, commit, 'and pinned there');
  assert.equal(await configMapValue(s.namespace, 'settings'), '1');
}

/**
 * Without a server, `ferry deploy` deploys in-process: a branch name resolves to its commit (the head), and an
 * explicit deploy of the ref releases the pin. `ferry status` reads the state directory alone.
 */
async function deploysWithoutAServer(s: Site, head: string): Promise<void> {
  const direct = await ferry(['deploy', s.app, 'staging', 'main', ...siteOptions(s)], { env: s.env });
  assert.equal(direct.code, 0, direct.stderr);
  assert.match(
    direct.stdout,
    new RegExp(`Deploying ${head.slice(0, 12)} \\(refs/heads/main\\) to ${s.app}/staging`),
  );
  assert.match(direct.stdout, /^succeeded: applied /m);
  assert.match(direct.stdout, /configured ConfigMap .*\/settings/);
  assert.equal(await configMapValue(s.namespace, 'settings'), '2');

  const status = await ferry(['status', '--state-dir', s.stateDir, '--config', s.configFile]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /no server running/);
  assert.match(status.stdout, new RegExp(`^${s.app}/staging/app +Synced +${head.slice(0, 12)} `, 'm'));
  assert.doesNotMatch(status.stdout, /pinned at/, 'the explicit deploy of main released the pin');
  assert.match(status.stdout, new RegExp(`last result: succeeded ${head.slice(0, 12)} manual`));
  assert.match(status.stdout, /Queue: 0 queued, 0 running, 0 dead letters/);

  const unknown = await ferry(['deploy', s.app, 'nowhere', head, ...siteOptions(s)], { env: s.env });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no environment "nowhere" of app/);
}

describe('ferry serve: push mode', () => {
  test(
    'a signed push is deployed once, redeliveries are acknowledged, the CLI deploys and rolls back',
    TIMEOUT,
    async () => {
      const { s, first, server } = await serving(['--no-reconcile']);
      const payload = githubPush({
        url: s.workspace.url,
        commit: first,
        before: '0'.repeat(40),
        paths: ['deploy/ns.yaml', 'deploy/cm.yaml'],
      });
      await refusesWhatItMust(server, payload);
      await deploysOnce(server, s, payload, first);

      const second = await push(s, settings('2'));
      const next = await server.webhook(
        githubDelivery(
          githubPush({ url: s.workspace.url, commit: second, before: first, paths: ['deploy/cm.yaml'] }),
          { secret: WEBHOOK_SECRET },
        ),
      );
      assert.equal(next.status, 202);
      await server.part(s.app, 'the second commit is applied', (env) => env.lastApplied?.commit === second);
      assert.equal(await configMapValue(s.namespace, 'settings'), '2');

      await rollsBackThroughTheServer(server, s, first);
      const stopped = await server.stop('SIGINT');
      assert.equal(stopped.code, 0, server.stderr);
      await server.waitForLog((l) => l.message === 'stopped');
      assert.equal(server.stderr, '');
      assert.ok(
        server.logs.every((line) => !JSON.stringify(line).includes(WEBHOOK_SECRET)),
        'the webhook secret is never logged',
      );
      assert.ok(server.logs.every((line) => !JSON.stringify(line).includes(testbed().gitToken)));
      await deploysWithoutAServer(s, second);
    },
  );
});

describe('ferry serve: pull mode', () => {
  test('commits pushed without a webhook are found and deployed by the reconcile loop', TIMEOUT, async () => {
    const { s, first, server } = await serving(['--reconcile-interval-seconds', '1']);
    const initial = await server.part(
      s.app,
      'the commit is deployed by a check',
      (env) => env.lastApplied?.commit === first,
    );
    assert.equal(initial.deployments[0]?.trigger.kind, 'reconcile');
    assert.equal(await configMapValue(s.namespace, 'settings'), '1');

    const second = await push(s, settings('2'));
    const updated = await server.part(
      s.app,
      'the new commit is deployed',
      (env) => env.lastApplied?.commit === second,
    );
    assert.deepEqual(
      updated.deployments.map((d) => [d.commit, d.trigger.kind, d.result]),
      [
        [second, 'reconcile', 'succeeded'],
        [first, 'reconcile', 'succeeded'],
      ],
      'each commit deployed once, although several checks saw it before it was applied',
    );
    assert.equal(await configMapValue(s.namespace, 'settings'), '2');
    const checked = await server.part(
      s.app,
      'a check finds it in sync',
      (env) => env.lastCheck?.action === 'none' && env.lastCheck.headCommit === second,
    );
    assert.match(checked.lastCheck?.message ?? '', /in sync with/);
    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0, server.stderr);
  });
});

/** Ctrl-C waited for the running deployment to finish and started no queued job. */
async function stopsAfterTheRunningJob(server: Server, running: string, queued: string): Promise<void> {
  const stopped = await server.stop('SIGINT');
  assert.equal(stopped.code, 0, server.stderr);
  assert.ok(stopped.ms >= 2000, `waited for the running deployment (${stopped.ms} ms)`);
  const messages = server.logs.map((l) => l.message);
  const stopping = messages.indexOf(
    'stopping: no new jobs; waiting for the running ones (Ctrl-C again forces)',
  );
  const finished = server.logs.findIndex((l) => l.message === 'deployment finished' && l.commit === running);
  assert.ok(
    stopping >= 0 && finished > stopping,
    `the running deployment finished after Ctrl-C:\n${server.logs.map((l) => JSON.stringify(l)).join('\n')}`,
  );
  assert.equal(messages.at(-1), 'stopped');
  assert.ok(
    !server.logs.some((l) => l.message === 'deployment started' && l.commit === queued),
    'the queued job was not started',
  );
}

/** `ferry status --json` without a server: the queued job kept, the finished deployment recorded. */
async function keptOffline(s: Site, slow: string, queued: string): Promise<void> {
  const offline = await ferry(['status', '--state-dir', s.stateDir, '--json']);
  assert.equal(offline.code, 0, offline.stderr);
  const report = JSON.parse(offline.stdout) as StatusReport;
  assert.deepEqual(
    report.queue.jobs.map((j) => [j.commit, j.running]),
    [[queued, false]],
  );
  const slowState = partOf(report, s.app);
  assert.equal(slowState.lastApplied?.commit, slow);
  assert.equal(slowState.deployments[0]?.result, 'failed', 'the Deployment never became ready');
  assert.match(slowState.deployments[0]?.message ?? '', /not healthy after 5s/);
  assert.equal(slowState.configured, undefined, 'no configuration was given');
}

describe('ferry serve: restarts', () => {
  test(
    'Ctrl-C lets the running deployment finish, keeps the queued job, and a restart deploys it',
    TIMEOUT,
    async () => {
      const s = await site({ healthTimeoutSeconds: 5 });
      const slow = await push(s, {
        'deploy/ns.yaml': namespaceManifest(s),
        ...settings('1'),
        // No controller runs in the test bed: the Deployment never becomes ready, so this deploy waits 5 s.
        'deploy/web.yaml': yaml(deployment('web', 'nginx:1.27', { [NEVER_READY]: 'true' })),
      });
      const server = await Server.start(s, ['--no-reconcile'], s.env);
      const slowDelivery = githubDelivery(
        githubPush({ url: s.workspace.url, commit: slow, before: '0'.repeat(40), paths: ['deploy/cm.yaml'] }),
        {
          secret: WEBHOOK_SECRET,
        },
      );
      assert.equal((await server.webhook(slowDelivery)).status, 202);
      await server.waitForLog((l) => l.message === 'deployment started' && l.commit === slow);
      // The worker follows the ref: the next commit is pushed once this deployment applies its own.
      await eventually('the slow deployment applies its commit', async () =>
        (await configMapValue(s.namespace, 'settings')) === '1' ? true : undefined,
      );

      const queued = await push(s, {
        ...settings('2'),
        'deploy/web.yaml': null,
      });
      const queuedDelivery = githubDelivery(
        githubPush({ url: s.workspace.url, commit: queued, before: slow, paths: ['deploy/cm.yaml'] }),
        {
          secret: WEBHOOK_SECRET,
        },
      );
      assert.equal((await server.webhook(queuedDelivery)).status, 202);
      await stopsAfterTheRunningJob(server, slow, queued);
      await keptOffline(s, slow, queued);

      const restarted = await Server.start(s, ['--no-reconcile'], s.env);
      assert.equal(
        (await restarted.waitForLog((l) => l.message === 'ferry local mode started')).queued,
        1,
        'the queued job is still there',
      );
      const state = await restarted.part(
        s.app,
        'the queued job is deployed after the restart',
        (env) => env.lastApplied?.commit === queued,
      );
      assert.deepEqual(
        state.deployments.map((d) => [d.commit, d.result]),
        [
          [queued, 'succeeded'],
          [slow, 'failed'],
        ],
        'the history from before the restart is kept',
      );
      assert.equal(await configMapValue(s.namespace, 'settings'), '2');
      const redelivered = await restarted.webhook(slowDelivery);
      assert.equal(redelivered.status, 200, 'the delivery log survived the restart');
      assert.equal((await restarted.stop('SIGTERM')).code, 0);
    },
  );
});

/** A new head is seen by every check and reported, never deployed over the pin, for ten ticks. */
async function holdsThroughTicks(server: Server, s: Site, pinned: string, head: string): Promise<void> {
  const seen = await server.part(
    s.app,
    'a check reports the pin and the new head',
    (env) => env.lastCheck?.action === 'pinned' && env.lastCheck.headCommit === head,
  );
  const ticks = server.logs.filter((l) => l.message === 'checks scheduled').length;
  await eventually('ten more ticks', async () =>
    server.logs.filter((l) => l.message === 'checks scheduled').length >= ticks + 10 ? true : undefined,
  );
  const still = partOf(await server.status(), s.app);
  assert.equal(still.lastApplied?.commit, pinned, 'the pin held');
  assert.equal(still.lastCheck?.action, 'pinned');
  assert.equal(still.sync.status, 'OutOfSync');
  assert.equal(seen.deployments.length, still.deployments.length, 'nothing deployed meanwhile');
  assert.equal(await configMapValue(s.namespace, 'settings'), '1');
  const status = await ferry(['status', '--state-dir', s.stateDir]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    new RegExp(
      `pinned at ${pinned.slice(0, 12)} \\(refs/heads/main\\) by ${userInfo().username} since \\S+; head ${head.slice(0, 12)}`,
    ),
  );
}

describe('ferry serve: pins', () => {
  test(
    '`ferry deploy <sha>` pins the part through reconcile ticks; `ferry resume` returns it to the branch head',
    TIMEOUT,
    async () => {
      const { s, first, server } = await serving(['--reconcile-interval-seconds', '1']);
      const appliedAt = (commit: string) => (env: EnvironmentStatus) => env.lastApplied?.commit === commit;
      await server.part(s.app, 'the first commit is deployed', appliedAt(first));
      const second = await push(s, settings('2'));
      await server.part(s.app, 'the second commit is deployed', appliedAt(second));

      const pinned = await ferry(['deploy', s.app, 'staging', first, ...siteOptions(s)], { env: s.env });
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.match(
        pinned.stdout,
        /Enqueued job \w+ to deploy .* \(refs\/heads\/main\) to .*, pinned there\./,
      );
      const held = await server.part(
        s.app,
        'the part is pinned at the first commit',
        (env) => env.lastApplied?.commit === first && env.pin !== null,
      );
      assert.equal(held.pin?.commit, first);
      assert.equal(held.pin?.ref, 'refs/heads/main');
      assert.equal(held.pin?.by, userInfo().username);
      assert.equal(await configMapValue(s.namespace, 'settings'), '1');

      const third = await push(s, settings('3'));
      await holdsThroughTicks(server, s, first, third);

      const resumed = await ferry(['resume', s.app, 'staging', ...siteOptions(s)], { env: s.env });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(
        resumed.stdout,
        new RegExp(`^Releasing the pin of ${s.app}/staging/app at ${first.slice(0, 12)}, set by `),
      );
      assert.match(
        resumed.stdout,
        new RegExp(`Enqueued job \\w+ to deploy ${third.slice(0, 12)} \\(refs/heads/main\\)`),
      );
      const released = await server.part(
        s.app,
        'the part is back at the branch head',
        (env) => env.lastApplied?.commit === third && env.pin === null,
      );
      assert.equal(released.deployments[0]?.trigger.kind, 'manual');
      assert.equal(await configMapValue(s.namespace, 'settings'), '3');

      // Auto-sync is back: the next commit is deployed by the reconcile loop.
      const fourth = await push(s, settings('4'));
      const synced = await server.part(s.app, 'the next commit is deployed by a check', appliedAt(fourth));
      assert.equal(synced.deployments[0]?.trigger.kind, 'reconcile');
      assert.equal(await configMapValue(s.namespace, 'settings'), '4');
      assert.equal((await server.stop('SIGTERM')).code, 0, server.stderr);
    },
  );
});

describe('configuration errors', () => {
  test(
    'validate names each bad field and exits 1; serve refuses the same; no stack trace',
    TIMEOUT,
    async () => {
      const s = await site();
      const bad = join(s.dir, 'bad.yaml');
      await writeFile(
        bad,
        yaml({
          repositories: [{ name: 'site', url: s.workspace.url, provider: 'github', webhookSecret: 'hook' }],
          clusters: [{ name: 'testbed', type: 'kubeconfig' }],
          apps: [
            {
              name: 'web',
              repository: 'site',
              path: '/etc',
              environments: [{ name: 'staging', cluster: 'elsewhere', namespace: 'web', trigger: {} }],
            },
          ],
        }),
      );
      const invalid = await ferry(['validate', '--config', bad]);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /apps\[0\]\.path: must be a path inside the repository/);
      assert.match(invalid.stderr, /apps\[0\]\.environments\[0\]\.cluster: no cluster named "elsewhere"/);
      assert.match(invalid.stderr, /apps\[0\]\.environments\[0\]\.trigger/);
      assert.doesNotMatch(invalid.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(invalid.stdout, '');

      const serveBad = await ferry(['serve', '--config', bad, '--state-dir', s.stateDir, '--port', '0']);
      assert.equal(serveBad.code, 1);
      assert.match(serveBad.stderr, /no cluster named "elsewhere"/);
      assert.doesNotMatch(serveBad.stderr, /\n\s+at /);

      const missing = await ferry(['validate', '--config', join(s.dir, 'missing.yaml')]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `ferry: cannot read the configuration ${join(s.dir, 'missing.yaml')}: no such file; start one from the example (cp ferry.config.example.yaml ${join(s.dir, 'missing.yaml')}) or pass --config <file>\n`,
      );

      const good = await ferry(['validate', '--config', s.configFile, '--secrets', s.secretsFile], {
        env: s.env,
      });
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /^OK: /);
      assert.match(good.stdout, /2 repositories, 1 cluster, 1 app, 1 environment \(1 deployable part\)/);
      assert.deepEqual(
        good.stdout.split('\n').filter((line) => line.startsWith('warning:')),
        [
          `warning: secret "local/unset" is not set: set FERRY_SECRET_LOCAL_UNSET or add "local/unset" to ${s.secretsFile}`,
        ],
      );
      assert.ok(!good.stdout.includes(WEBHOOK_SECRET) && !good.stdout.includes(testbed().gitToken));
      const withoutSecrets = await ferry(['validate', '--config', s.configFile]);
      assert.equal(withoutSecrets.code, 0);
      assert.match(
        withoutSecrets.stdout,
        /warning: secret "local\/webhook" is not set: set FERRY_SECRET_LOCAL_WEBHOOK/,
      );

      const usage = await ferry(['serve', '--port', 'eighty']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--port must be a whole number/);
    },
  );
});
