// The plan of a part against the real kube-apiserver, after a real deployment of its base: what each object's
// dry-run and the deploy's differ say (created, changed field by field with ignoreDifferences honoured and
// Secret values masked, adopted), what the API server refuses and why (an invalid field, an immutable one), the
// prune verdicts (owned, retained by annotation, gone), the deletion budget's verdict, hooks, render refusals;
// and that nothing a plan does changes the cluster: every resourceVersion stays, and the guard refuses applies
// and deletions before they are sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { layerManifestTools, UNTRUSTED_RENDER } from '../../functions/adapters/tools/layer-tools.ts';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';
import { deploy } from '../../functions/core/deploy/deploy.ts';
import { classify } from '../../functions/core/errors.ts';
import { clusterOf, findPart, type PartKey } from '../../functions/core/model/part.ts';
import { summaryOf, verdictOf } from '../../functions/core/plan/model.ts';
import { dryRunOnly, type PlanDependencies, planPart } from '../../functions/core/plan/plan.ts';
import { planLines } from '../../functions/core/plan/text.ts';
import { remoteOf } from '../../functions/core/source/revision.ts';
import { type DeployFixture, deployFixture } from '../support/deploy.ts';
import { configMap, deployment, service, yaml } from '../support/manifests.ts';
import { simulateRollouts } from '../support/rollout.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

const PASSWORD = 'first-secret-value';
const secret = (password: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'credentials' },
  stringData: { password },
});
const kept = {
  ...service('legacy'),
  metadata: { name: 'legacy', annotations: { 'ferry.dev/prune': 'disabled' } },
};
const hook = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate', annotations: { 'ferry.dev/hook': 'pre-sync' } },
  spec: {
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'busybox:1.36' }] } },
  },
};

/** Every object of the namespace with its resourceVersion, and the namespace's. */
async function snapshot(namespace: string): Promise<string[]> {
  const paths = ['configmaps', 'secrets', 'services'].map((r) => `/api/v1/namespaces/${namespace}/${r}`);
  paths.push(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
  );
  const lists = await Promise.all(
    paths.map((path) =>
      api.request<{ items: { metadata: { name: string; resourceVersion: string } }[] }>({
        method: 'GET',
        path,
      }),
    ),
  );
  return lists
    .flatMap((list, i) =>
      list.items.map((o) => `${paths[i]}/${o.metadata.name}@${o.metadata.resourceVersion}`),
    )
    .sort();
}

interface Setting {
  readonly fixture: DeployFixture;
  readonly key: PartKey;
  readonly deps: PlanDependencies;
}

/** A deployed base, and the plan of a commit pushed to another branch. */
async function setting(environment: Partial<ConfigInput['apps'][number]['environments'][number]>) {
  const fixture = await deployFixture(environment);
  const key: PartKey = { app: fixture.app, environment: 'staging', part: 'app' };
  const deps = { ...fixture.deps, tools: await layerManifestTools(UNTRUSTED_RENDER) };
  return { fixture, key, deps } satisfies Setting;
}

const namespaceOf = ({ fixture }: Setting) => ({
  'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
});

async function planOf({ fixture, key, deps }: Setting, files: Readonly<Record<string, string | null>>) {
  await fixture.workspace.git('checkout', '--quiet', '-B', 'change', 'main');
  const commit = await fixture.workspace.commit(files);
  await fixture.workspace.push('refs/heads/change');
  const found = findPart(deps.config, key);
  assert.ok(found);
  const remote = await remoteOf(deps.config, deps.secrets, found.app);
  return planPart(deps, key, found, remote, commit);
}

describe('a plan against the live cluster', () => {
  let s: Setting;
  let base: string[];
  let rollouts: { stop(): Promise<void> };

  before(async () => {
    s = await setting({
      ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
    });
    const { fixture } = s;
    rollouts = simulateRollouts(api, fixture.namespace);
    const commit = await fixture.workspace.commit({
      'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fixture.namespace } }),
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello', mode: 'one' })),
      'deploy/services.yaml': yaml(service('web'), kept, service('gone')),
      'deploy/credentials.yaml': yaml(secret(PASSWORD)),
      'deploy/api.yaml': yaml(deployment('api', 'nginx:1.27')),
    });
    await fixture.workspace.push();
    const record = await deploy(fixture.job(commit), fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    // Deleted by hand since: pruning would find it gone.
    await api.request({ method: 'DELETE', path: `/api/v1/namespaces/${fixture.namespace}/services/gone` });
    // Made by hand, not by Ferry: a revision that declares it adopts it.
    await api.request({
      method: 'POST',
      path: `/api/v1/namespaces/${fixture.namespace}/configmaps`,
      body: configMap('handmade', { owner: 'someone' }),
    });
    base = await snapshot(fixture.namespace);
  });
  after(() => rollouts.stop());

  test('each object as the deploy would treat it, with the API server’s reasons; the cluster unchanged', async () => {
    const { namespace } = s.fixture;
    const scaled = {
      ...deployment('api', 'nginx:1.28'),
      spec: { ...deployment('api', 'nginx:1.28').spec, replicas: 9 },
    };
    const plan = await planOf(s, {
      'deploy/settings.yaml': yaml(configMap('settings', { message: 'hello, plan', mode: 'one' })),
      'deploy/services.yaml': null,
      'deploy/credentials.yaml': yaml(secret('second-secret-value')),
      'deploy/api.yaml': yaml(scaled),
      'deploy/handmade.yaml': yaml(configMap('handmade', { owner: 'someone' })),
      'deploy/worker.yaml': yaml({
        ...deployment('worker', 'nginx:1.27'),
        spec: { ...deployment('worker', 'nginx:1.27').spec, replicas: -1 },
      }),
      'deploy/hook.yaml': yaml(hook),
    });
    const lines = planLines(plan).join('\n');
    const changes = Object.fromEntries(plan.changes.map((c) => [`${c.ref.kind}/${c.ref.name}`, c]));
    assert.deepEqual(changes['ConfigMap/settings']?.changes, [
      { path: '/data/message', live: 'hello', desired: 'hello, plan' },
    ]);
    // The replicas an HPA would own are ignored: only the image changes.
    assert.deepEqual(changes['Deployment/api']?.changes, [
      { path: '/spec/template/spec/containers/0/image', live: 'nginx:1.27', desired: 'nginx:1.28' },
    ]);
    assert.deepEqual(changes['Secret/credentials']?.changes, [
      { path: '/data/password', live: '(masked)', desired: '(masked)' },
    ]);
    assert.equal(
      changes['ConfigMap/handmade']?.note,
      'not applied by Ferry yet: Ferry takes over its fields',
    );
    assert.deepEqual(plan.prune.map((p) => [p.ref.name, p.verdict, p.reason]).sort(), [
      ['gone', 'gone', 'already deleted'],
      ['legacy', 'retained', 'annotated ferry.dev/prune: disabled'],
      ['web', 'prune', "owned: it carries this environment's labels"],
    ]);
    assert.equal(plan.refusals.length, 1, lines);
    assert.equal(plan.refusals[0]?.ref?.name, 'worker');
    assert.match(
      plan.refusals[0]?.reason ?? '',
      /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/,
    );
    assert.deepEqual(
      plan.hooks.map((h) => `${h.phase} ${h.ref.name}`),
      ['pre-sync migrate'],
    );
    assert.match(lines, new RegExp(`^  hook {6}pre-sync Job ${namespace}/migrate would run$`, 'm'));
    assert.equal(verdictOf(plan), 'refused');
    assert.equal(summaryOf(plan), '4 to change, 1 to prune, 1 retained, 1 refused');
    for (const value of [PASSWORD, 'second-secret-value', Buffer.from(PASSWORD).toString('base64')])
      assert.ok(!lines.includes(value), 'no Secret value in the plan');
    assert.deepEqual(await snapshot(namespace), base, 'every resourceVersion as before');
  });

  test('a field that cannot change is refused, unless the environment re-creates such objects', async () => {
    const moved = deployment('api', 'nginx:1.27');
    moved.spec.selector = { matchLabels: { app: 'api-v2' } };
    moved.spec.template.metadata.labels = { app: 'api-v2' };
    const plan = await planOf(s, { 'deploy/api.yaml': yaml(moved) });
    const refusal = plan.refusals.find((r) => r.ref?.name === 'api');
    assert.match(refusal?.reason ?? '', /spec\.selector: Invalid value: .*field is immutable/);
    assert.deepEqual(await snapshot(s.fixture.namespace), base);
  });

  test('the revision deployed plans only what changed since: the Service deleted by hand', async () => {
    await s.fixture.workspace.git('checkout', '--quiet', 'main');
    const found = findPart(s.deps.config, s.key);
    assert.ok(found);
    const remote = await remoteOf(s.deps.config, s.deps.secrets, found.app);
    const head = (await s.fixture.workspace.git('rev-parse', 'main')).trim();
    const plan = await planPart(s.deps, s.key, found, remote, head);
    assert.deepEqual(
      plan.changes.map((c) => `${c.action} ${c.ref.kind}/${c.ref.name}`),
      ['create Service/gone'],
      planLines(plan).join('\n'),
    );
    assert.equal(plan.unchanged, 6);
    assert.deepEqual(plan.prune, []);
    assert.equal(verdictOf(plan), 'changes');
    assert.equal(summaryOf(plan), '1 to create');
  });

  test('a revision that does not render is refused with the file and line', async () => {
    const plan = await planOf(s, { 'deploy/settings.yaml': 'kind: ConfigMap\nmetadata: {name: [unclosed\n' });
    assert.equal(verdictOf(plan), 'refused');
    assert.match(plan.refusals[0]?.reason ?? '', /^render failed: deploy\/settings\.yaml:\d+:\d+/);
    assert.equal(plan.refusals[0]?.ref, undefined);
  });

  test('the guard refuses anything but reads and dry-runs, before it reaches the cluster', async () => {
    const found = findPart(s.deps.config, s.key);
    assert.ok(found);
    const cluster = dryRunOnly(await s.deps.clusters.connect(clusterOf(s.deps.config, found.environment)));
    const object = {
      ...configMap('settings', { message: 'overwritten' }),
      metadata: { name: 'settings', namespace: s.fixture.namespace },
    };
    const applied = await cluster.apply(object, { dryRun: false }).catch((e: unknown) => e);
    assert.equal(classify(applied), 'configuration');
    assert.match(String(applied), /a plan never applies/);
    const deleted = await cluster
      .delete({ apiVersion: 'v1', kind: 'Service', namespace: s.fixture.namespace, name: 'web' })
      .catch((e: unknown) => e);
    assert.match(String(deleted), /a plan never deletes/);
    const dryRun = await cluster.apply(object, { dryRun: true });
    assert.deepEqual(dryRun.data, { message: 'overwritten' });
    assert.deepEqual(await snapshot(s.fixture.namespace), base);
  });
});

describe('the deletion budget and prune settings', () => {
  test('more prunes than the budget: the plan is refused, listing the budget', async () => {
    const s = await setting({ deletionBudget: 1 });
    const commit = await s.fixture.workspace.commit({
      ...namespaceOf(s),
      'deploy/a.yaml': yaml(
        configMap('a', { v: '1' }),
        configMap('b', { v: '1' }),
        configMap('c', { v: '1' }),
      ),
    });
    await s.fixture.workspace.push();
    const record = await deploy(s.fixture.job(commit), s.fixture.deps);
    assert.equal(record.result, 'succeeded', record.message);
    const plan = await planOf(s, { 'deploy/a.yaml': yaml(configMap('a', { v: '1' })) });
    assert.equal(verdictOf(plan), 'refused');
    assert.match(
      plan.budget.refusal ?? '',
      /^would prune 2 object\(s\), over the deletion budget of 1 \(deletionBudget 1\)/,
    );
    assert.match(planLines(plan).join('\n'), /^! budget {4}would prune 2 object/m);
    assert.equal(summaryOf(plan), '2 to prune, over the deletion budget');
  });

  test('an environment that does not prune leaves the objects, and says so', async () => {
    const s = await setting({ prune: false });
    const commit = await s.fixture.workspace.commit({
      ...namespaceOf(s),
      'deploy/a.yaml': yaml(configMap('a', { v: '1' }), configMap('b', { v: '1' })),
    });
    await s.fixture.workspace.push();
    assert.equal((await deploy(s.fixture.job(commit), s.fixture.deps)).result, 'succeeded');
    const plan = await planOf(s, { 'deploy/a.yaml': yaml(configMap('a', { v: '1' })) });
    assert.deepEqual(
      plan.prune.map((p) => [p.ref.name, p.verdict]),
      [['b', 'left']],
    );
    assert.equal(verdictOf(plan), 'unchanged');
  });
});

test('an unknown cluster is a configuration failure, thrown', async () => {
  const s = await setting({});
  const config = parseConfig({
    ...s.deps.config,
    clusters: [{ name: 'testbed', type: 'kubeconfig', kubeconfig: '/nonexistent/kubeconfig.yaml' }],
  });
  const found = findPart(config, s.key);
  assert.ok(found);
  const remote = await remoteOf(config, s.deps.secrets, found.app);
  const commit = await s.fixture.workspace.commit({ 'deploy/a.yaml': yaml(configMap('a', { v: '1' })) });
  await s.fixture.workspace.push();
  const error = await planPart({ ...s.deps, config }, s.key, found, remote, commit).catch((e: unknown) => e);
  assert.equal(classify(error), 'configuration', String(error));
});
