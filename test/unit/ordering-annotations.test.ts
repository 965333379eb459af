// What the ordering annotations say: Ferry's own, and Argo CD's and Helm's read as aliases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Ordering, orderingOf, perDeploymentName } from '../../functions/core/apply/annotations.ts';
import { byWave } from '../../functions/core/apply/order.ts';
import type { KubeObject } from '../../functions/core/objects.ts';

const object = (annotations: Record<string, string>, kind = 'Job'): KubeObject => ({
  apiVersion: 'batch/v1',
  kind,
  metadata: { name: 'migrate', annotations },
});
const ordering = (annotations: Record<string, string>) => orderingOf(object(annotations));
/** A hook's phase, weight, policies and events, in one comparable value. */
const hook = (annotations: Record<string, string>) => {
  const found: Ordering = ordering(annotations);
  if (found.kind !== 'hook') assert.fail(`not a hook: ${JSON.stringify(found)}`);
  const { phase, weight, deletePolicies, only } = found.hook;
  return { phase, weight, policies: [...deletePolicies].sort(), ...(only === undefined ? {} : { only }) };
};

describe('ordering annotations: waves', () => {
  test('an object is in wave 0 unless ferry.dev/wave, or Argo CD’s sync-wave, says otherwise', () => {
    assert.deepEqual(ordering({}), { kind: 'object', wave: 0 });
    assert.deepEqual(ordering({ 'ferry.dev/wave': '-2' }), { kind: 'object', wave: -2 });
    assert.deepEqual(ordering({ 'argocd.argoproj.io/sync-wave': '5' }), { kind: 'object', wave: 5 });
    assert.deepEqual(
      ordering({ 'ferry.dev/wave': '1', 'argocd.argoproj.io/sync-wave': '9' }),
      { kind: 'object', wave: 1 },
      'Ferry’s annotation wins',
    );
  });

  test('a wave that is not an integer is invalid, naming the annotation', () => {
    assert.deepEqual(ordering({ 'ferry.dev/wave': 'early' }), {
      kind: 'invalid',
      reason: 'ferry.dev/wave: "early" is not an integer',
    });
    assert.equal(ordering({ 'argocd.argoproj.io/sync-wave': '1.5' }).kind, 'invalid');
  });

  test('waves order objects lowest first, each wave by kind stage', () => {
    const items = [
      { kind: 'Deployment', wave: 1 },
      { kind: 'ConfigMap', wave: -1 },
      { kind: 'Namespace', wave: 1 },
      { kind: 'Service', wave: 0 },
    ];
    const order = byWave(
      items,
      (i) => i.wave,
      (i) => i.kind,
    ).map(({ wave, stages }) => [wave, stages.flatMap(([, of]) => of.map((i) => i.kind))]);
    assert.deepEqual(order, [
      [-1, ['ConfigMap']],
      [0, ['Service']],
      [1, ['Namespace', 'Deployment']],
    ]);
  });
});

describe('ordering annotations: hooks', () => {
  test('ferry.dev/hook names the phase; its wave orders it within the phase; before-create by default', () => {
    assert.deepEqual(hook({ 'ferry.dev/hook': 'pre-sync' }), {
      phase: 'pre-sync',
      weight: 0,
      policies: ['before-create'],
    });
    assert.deepEqual(hook({ 'ferry.dev/hook': 'post-sync', 'ferry.dev/wave': '3' }), {
      phase: 'post-sync',
      weight: 3,
      policies: ['before-create'],
    });
    assert.deepEqual(
      hook({ 'ferry.dev/hook': 'sync-fail', 'ferry.dev/hook-delete-policy': 'on-success, on-failure' }),
      { phase: 'sync-fail', weight: 0, policies: ['on-failure', 'on-success'] },
    );
  });

  test('a Ferry hook or policy Ferry does not know is invalid', () => {
    assert.deepEqual(ordering({ 'ferry.dev/hook': 'pre-install' }), {
      kind: 'invalid',
      reason: 'ferry.dev/hook: "pre-install" is not one of pre-sync, post-sync, sync-fail',
    });
    assert.equal(
      ordering({ 'ferry.dev/hook': 'pre-sync', 'ferry.dev/hook-delete-policy': 'always' }).kind,
      'invalid',
    );
  });

  test('Argo CD’s hooks and delete policies are aliases; its other hook types are skipped', () => {
    assert.deepEqual(
      hook({
        'argocd.argoproj.io/hook': 'PreSync',
        'argocd.argoproj.io/sync-wave': '-1',
        'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded,BeforeHookCreation',
      }),
      { phase: 'pre-sync', weight: -1, policies: ['before-create', 'on-success'] },
    );
    assert.equal(hook({ 'argocd.argoproj.io/hook': 'PostSync' }).phase, 'post-sync');
    assert.deepEqual(
      hook({ 'argocd.argoproj.io/hook': 'SyncFail', 'argocd.argoproj.io/hook-delete-policy': 'HookFailed' }),
      {
        phase: 'sync-fail',
        weight: 0,
        policies: ['on-failure'],
      },
    );
    for (const type of ['Skip', 'Sync', 'PreDelete', 'PostDelete']) {
      assert.deepEqual(ordering({ 'argocd.argoproj.io/hook': type }), {
        kind: 'skipped',
        reason: `argocd.argoproj.io/hook: ${type}: Ferry runs no such hook; the object is not applied`,
      });
    }
  });

  test('Helm’s install and upgrade hooks map to the phases, ordered by hook-weight', () => {
    assert.deepEqual(
      hook({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-weight': '-5',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      }),
      { phase: 'pre-sync', weight: -5, policies: ['before-create', 'on-success'] },
    );
    assert.deepEqual(hook({ 'helm.sh/hook': 'post-install', 'helm.sh/hook-delete-policy': 'hook-failed' }), {
      phase: 'post-sync',
      weight: 0,
      policies: ['on-failure'],
      only: 'install',
    });
    assert.equal(hook({ 'helm.sh/hook': 'pre-upgrade' }).only, 'upgrade');
    assert.equal(hook({ 'helm.sh/hook': 'pre-install', 'helm.sh/hook-weight': 'heavy' }).weight, 0);
    assert.equal(
      hook({ 'helm.sh/hook': 'pre-install,pre-delete' }).phase,
      'pre-sync',
      'a hook of kinds Ferry runs and others runs at the ones it runs',
    );
    for (const kind of ['test', 'pre-delete', 'post-rollback', 'test-success']) {
      assert.equal(ordering({ 'helm.sh/hook': kind }).kind, 'skipped', kind);
    }
  });

  test('Ferry’s hook annotation wins over the aliases', () => {
    assert.equal(hook({ 'ferry.dev/hook': 'post-sync', 'helm.sh/hook': 'pre-install' }).phase, 'post-sync');
  });

  test('a per-deployment name is stable for a deployment, differs across them, and fits a Job’s name', () => {
    const name = perDeploymentName('migrate', 'run-1');
    assert.match(name, /^migrate-[0-9a-f]{8}$/);
    assert.equal(perDeploymentName('migrate', 'run-1'), name);
    assert.notEqual(perDeploymentName('migrate', 'run-2'), name);
    const long = perDeploymentName(`${'a'.repeat(53)}-${'b'.repeat(20)}`, 'run-1');
    assert.ok(long.length <= 63, long);
    assert.match(long, /^a{53}-[0-9a-f]{8}$/, 'no dash doubled where the name was cut');
  });
});
