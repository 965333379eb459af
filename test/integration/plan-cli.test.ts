// `ferry plan` as a CI job runs it, on a local state directory after a real deployment: the same plan a pull
// request's comment shows, printed, with the exit code a job branches on (0 nothing would change, 1 something
// would, 2 something would be refused or the plan failed), for branches, full and short SHAs; the cluster
// unchanged by it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { parseConfig } from '../../functions/core/config.ts';
import { ferry, userEnvironment } from '../support/cli.ts';
import { createTokenSecret, stagingApp } from '../support/deploy.ts';
import { GitWorkspace } from '../support/git.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { testbed, testbedKubeConfig, uniqueName, writeTestbedKubeconfig } from '../support/testbed.ts';

const TIMEOUT = { timeout: 300_000 };
const api = new KubernetesApi(testbedKubeConfig());
const app = uniqueName('app');
const namespace = uniqueName('ns');
let workspace: GitWorkspace;
let dir: string;
let plan: (...args: string[]) => ReturnType<typeof ferry>;
let run: (...args: string[]) => ReturnType<typeof ferry>;

before(async () => {
  const [created, kubeconfig, tokenSecret] = await Promise.all([
    GitWorkspace.create(`tests/${app}`),
    writeTestbedKubeconfig(),
    createTokenSecret(),
  ]);
  workspace = created;
  dir = await mkdtemp(join(tmpdir(), 'ferry-plan-cli-'));
  const config = parseConfig({
    repositories: [
      { name: 'site', url: workspace.url, provider: 'github', webhookSecret: 'cli/hook', tokenSecret },
    ],
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig }],
    apps: [stagingApp({ app, repository: 'site', namespace })],
  });
  const configFile = join(dir, 'ferry.config.yaml');
  await writeFile(configFile, yaml(config));
  const env = userEnvironment({
    [`FERRY_SECRET_${tokenSecret.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`]: testbed().gitToken,
  });
  const options = ['--state-dir', join(dir, 'state'), '--config', configFile];
  run = (...args) => ferry([...args, ...options], { env });
  plan = (...args) => run('plan', `${app}/staging`, ...args);
});
after(async () => {
  api.close();
  await workspace?.remove();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const resourceVersion = async () =>
  (
    await api.request<{ metadata: { resourceVersion: string } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/configmaps/settings`,
    })
  ).metadata.resourceVersion;

/** A branch off main holding `files`, pushed; its commit. */
async function branch(name: string, files: Record<string, string | null>): Promise<string> {
  await workspace.git('checkout', '--quiet', '-B', name, 'main');
  const commit = await workspace.commit(files);
  await workspace.push(`refs/heads/${name}`);
  await workspace.git('checkout', '--quiet', 'main');
  return commit;
}

describe('ferry plan', () => {
  let deployed: string;

  test('the deployed branch plans nothing: exit code 0', TIMEOUT, async () => {
    deployed = await workspace.commit({
      'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }),
      'deploy/settings.yaml': yaml(configMap('settings', { v: '1' })),
    });
    await workspace.push();
    const deploy = await run('deploy', `${app}/staging`, 'main');
    assert.equal(deploy.code, 0, deploy.stderr);
    const result = await plan('main');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `${app}/staging at ${deployed.slice(0, 7)}: no changes\n  unchanged 2 object(s)\n`,
    );
  });

  test(
    'a branch that changes a value: exit code 1, each field with its live and new value',
    TIMEOUT,
    async () => {
      const before = await resourceVersion();
      const commit = await branch('change', {
        'deploy/settings.yaml': yaml(configMap('settings', { v: '2' })),
      });
      for (const revision of ['change', commit, commit.slice(0, 9)]) {
        const result = await plan(revision);
        assert.equal(result.code, 1, `${revision}: ${result.stderr}`);
        assert.equal(
          result.stdout,
          [
            `${app}/staging at ${commit.slice(0, 7)}: 1 to change`,
            `~ change    ConfigMap ${namespace}/settings`,
            '             /data/v: "1" → "2"',
            '  unchanged 1 object(s)',
            '',
          ].join('\n'),
        );
      }
      assert.equal(await resourceVersion(), before, 'the plan changed nothing');
    },
  );

  test('a branch with an object the API server refuses: exit code 2 with its reason', TIMEOUT, async () => {
    const broken = deployment('api', 'nginx:1.27');
    const commit = await branch('broken', {
      'deploy/api.yaml': yaml({ ...broken, spec: { ...broken.spec, replicas: -1 } }),
    });
    const result = await plan('broken');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, new RegExp(`^${app}/staging at ${commit.slice(0, 7)}: 1 refused$`, 'm'));
    assert.match(
      result.stdout,
      new RegExp(`^! refused {3}Deployment ${namespace}/api: .*spec\\.replicas: Invalid value: -1`, 'm'),
    );
  });

  test('a revision that is not there, or no revision: exit code 2 with why', TIMEOUT, async () => {
    const unknown = await plan('no-such-branch');
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /"no-such-branch" is no commit, deployment, branch or tag of repository site/,
    );
    const missing = await run('plan', `${app}/staging`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /expected <app>\/<environment> and one commit, branch or tag/);
    const help = await run('plan', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ferry plan <app>\/<environment> <commit\|branch\|tag\|refs\/\.\.\.>/m);
  });
});
