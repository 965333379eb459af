import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../functions/core/config.ts';

const valid = {
  repositories: [
    {
      name: 'shop',
      url: 'https://github.com/acme/shop.git',
      provider: 'github',
      webhookSecret: 'ferry/shop',
    },
  ],
  clusters: [{ name: 'prod', type: 'eks', clusterName: 'prod-eu' }],
  apps: [
    {
      name: 'web',
      repository: 'shop',
      path: 'deploy/web',
      environments: [
        { name: 'staging', cluster: 'prod', namespace: 'web-staging', trigger: { branches: ['main'] } },
        { name: 'prod', cluster: 'prod', namespace: 'web', trigger: { tags: ['v*'] }, autoSync: false },
      ],
    },
  ],
};

const errorOf = (input: unknown): string => {
  try {
    parseConfig(input, 'ferry.config.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('the configuration was accepted');
};

describe('configuration', () => {
  test('defaults fill what a valid configuration leaves out', () => {
    const config = parseConfig(valid);
    const [staging, prod] = config.apps[0]?.environments ?? [];
    assert.deepEqual(
      [staging?.autoSync, staging?.prune, staging?.selfHeal, staging?.healthTimeoutSeconds, prod?.autoSync],
      [true, true, false, 300, false],
    );
    assert.equal(config.settings.reconcileSchedule, 'rate(5 minutes)');
    assert.equal(
      config.clusters[0]?.type === 'eks' && config.clusters[0].accessPolicy,
      'AmazonEKSClusterAdminPolicy',
    );
  });

  test('errors name every offending field', () => {
    const broken = {
      ...valid,
      apps: [
        {
          ...valid.apps[0],
          repository: 'nope',
          environments: [{ name: 'staging', cluster: 'prod', namespace: 'x', trigger: { paths: ['x/**'] } }],
        },
      ],
    };
    const message = errorOf(broken);
    assert.match(message, /^invalid ferry\.config\.yaml:/);
    assert.match(message, /apps\[0\]\.environments\[0\]\.trigger: needs at least one branch or tag pattern/);
    assert.match(message, /apps\[0\]\.repository: no repository named "nope"/);
  });

  test('cross references, duplicates, names and paths are checked', () => {
    const withCluster = structuredClone(valid);
    (withCluster.apps[0]?.environments[0] as Record<string, unknown>).cluster = 'mian';
    assert.match(errorOf(withCluster), /apps\[0\]\.environments\[0\]\.cluster: no cluster named "mian"/);
    const duplicate = structuredClone(valid);
    duplicate.apps[0]?.environments.push({
      ...(duplicate.apps[0]?.environments[0] as (typeof valid.apps)[0]['environments'][0]),
    });
    assert.match(errorOf(duplicate), /apps\[0\]\.environments\[2\]\.name: duplicate name "staging"/);
    assert.match(
      errorOf({ ...valid, apps: [{ ...valid.apps[0], path: '../outside' }] }),
      /apps\[0\]\.path: must be a path inside the repository/,
    );
    assert.match(
      errorOf({ ...valid, clusters: [{ name: 'Prod', type: 'eks', clusterName: 'x' }] }),
      /clusters\[0\]\.name: must be lower-case/,
    );
    assert.match(errorOf({ ...valid, surprise: true }), /\(root\): Unrecognized key/i);
    const leaky = {
      ...valid,
      repositories: [{ ...valid.repositories[0], url: 'https://x:ghp_secret@github.com/acme/shop.git' }],
    };
    const message = errorOf(leaky);
    assert.match(message, /repositories\[0\]\.url: must not carry credentials/);
    assert.doesNotMatch(message, /ghp_secret/, 'the error does not repeat the token');
  });

  test('a deletion budget is a count or a percentage', () => {
    const withBudget = (deletionBudget: unknown) => {
      const input = structuredClone(valid);
      (input.apps[0]?.environments[0] as Record<string, unknown>).deletionBudget = deletionBudget;
      return input;
    };
    for (const budget of [0, 10, '0%', '25%', '100%']) {
      assert.equal(parseConfig(withBudget(budget)).apps[0]?.environments[0]?.deletionBudget, budget);
    }
    assert.equal(
      parseConfig(valid).apps[0]?.environments[0]?.deletionBudget,
      undefined,
      'no budget by default',
    );
    for (const budget of ['150%', '25', '-1%', -1, 2.5]) {
      assert.match(
        errorOf(withBudget(budget)),
        /apps\[0\]\.environments\[0\]\.deletionBudget/,
        String(budget),
      );
    }
    assert.match(errorOf(withBudget('150%')), /must be a count or a percentage such as 25%/);
  });
});
