// The environment part: one key, one policy, found in the configuration or not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../functions/core/config.ts';
import { Failure } from '../../functions/core/errors.ts';
import { createJob } from '../../functions/core/model/job.ts';
import {
  clusterOf,
  configuredParts,
  findPart,
  keyOf,
  partId,
  partSettings,
  partsOf,
} from '../../functions/core/model/part.ts';

const config = parseConfig({
  repositories: [
    { name: 'r', url: 'https://git.example.com/o/r.git', provider: 'github', webhookSecret: 's' },
  ],
  clusters: [
    { name: 'one', type: 'kubeconfig' },
    { name: 'two', type: 'kubeconfig' },
  ],
  apps: [
    {
      name: 'shop',
      repository: 'r',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'one', namespace: 'staging', trigger: { branches: ['main'] } },
        {
          name: 'prod',
          cluster: 'two',
          namespace: 'prod',
          trigger: { tags: ['v*'] },
          path: 'overlays/prod',
          autoSync: false,
          prune: false,
          selfHeal: true,
          config: { path: 'env/prod', prune: false },
        },
      ],
    },
  ],
});
const shop = config.apps[0];
const [staging, prod] = shop?.environments ?? [];

describe('the part key', () => {
  test('one key per part, app/environment/part, for both parts', () => {
    assert.equal(partId({ app: 'shop', environment: 'prod', part: 'app' }), 'shop/prod/app');
    assert.equal(partId({ app: 'shop', environment: 'prod', part: 'config' }), 'shop/prod/config');
  });

  test('a job is keyed by its part, and keyOf keeps the key only', () => {
    const job = createJob(
      { app: 'shop', environment: 'prod', part: 'config' },
      { ref: 'refs/heads/main', commit: 'a'.repeat(40) },
      { kind: 'push', deliveryId: 'd', provider: 'github' },
    );
    assert.equal(partId(job), 'shop/prod/config');
    assert.deepEqual(keyOf(job), { app: 'shop', environment: 'prod', part: 'config' });
  });
});

describe('parts and their policy', () => {
  test('an environment has an app part, and a config part when it has a config path', () => {
    assert.ok(staging !== undefined && prod !== undefined);
    assert.deepEqual(partsOf(staging), ['app']);
    assert.deepEqual(partsOf(prod), ['app', 'config']);
    assert.deepEqual(configuredParts(config).map(partId), [
      'shop/staging/app',
      'shop/prod/app',
      'shop/prod/config',
    ]);
  });

  test("the app part takes the environment's path (else the app's) and the environment's policy", () => {
    assert.ok(shop !== undefined && staging !== undefined && prod !== undefined);
    assert.deepEqual(partSettings(shop, staging, 'app'), {
      path: 'deploy',
      autoSync: true,
      prune: true,
      selfHeal: false,
    });
    assert.deepEqual(partSettings(shop, prod, 'app'), {
      path: 'overlays/prod',
      autoSync: false,
      prune: false,
      selfHeal: true,
    });
  });

  test('the config part takes its own path, auto-sync and prune, and heals with its environment', () => {
    assert.ok(shop !== undefined && staging !== undefined && prod !== undefined);
    assert.deepEqual(partSettings(shop, prod, 'config'), {
      path: 'env/prod',
      autoSync: true,
      prune: false,
      selfHeal: true,
    });
    assert.equal(partSettings(shop, staging, 'config').path, undefined, 'an environment without one');
  });

  test('findPart finds a configured part with its settings, and nothing the configuration lacks', () => {
    assert.ok(shop !== undefined && prod !== undefined);
    assert.deepEqual(findPart(config, { app: 'shop', environment: 'prod', part: 'config' }), {
      app: shop,
      environment: prod,
      settings: partSettings(shop, prod, 'config'),
    });
    assert.equal(findPart(config, { app: 'shop', environment: 'staging', part: 'config' }), undefined);
    assert.equal(findPart(config, { app: 'shop', environment: 'qa', part: 'app' }), undefined);
    assert.equal(findPart(config, { app: 'cart', environment: 'prod', part: 'app' }), undefined);
  });

  test('clusterOf finds the cluster; a name the configuration lacks is a configuration failure', () => {
    assert.ok(prod !== undefined);
    assert.equal(clusterOf(config, prod).name, 'two');
    assert.throws(
      () => clusterOf(config, { ...prod, cluster: 'gone' }),
      (error: unknown) =>
        error instanceof Failure &&
        error.failureClass === 'configuration' &&
        /no cluster gone/.test(error.message),
    );
  });
});
