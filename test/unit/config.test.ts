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

  test("a repository's apiUrl is GitLab's API, for GitLab only", () => {
    const withApi = (provider: string, apiUrl: string) => ({
      ...valid,
      repositories: [{ ...valid.repositories[0], provider, apiUrl }],
    });
    const rooted = parseConfig(withApi('gitlab', 'https://git.example.com/gitlab/api/v4'));
    assert.equal(rooted.repositories[0]?.apiUrl, 'https://git.example.com/gitlab/api/v4');
    assert.match(
      errorOf(withApi('github', 'https://git.example.com/api/v3')),
      /repositories\[0\]\.apiUrl: is read for GitLab only/,
    );
    assert.match(
      errorOf(withApi('gitlab', 'https://git.example.com/gitlab')),
      /repositories\[0\]\.apiUrl: must be the URL of GitLab's API, ending in \/api\/v4/,
    );
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

  test('the reconcile schedule is an EventBridge rate or cron expression that the local mode runs too', () => {
    const withSchedule = (reconcileSchedule: string) => ({ ...valid, settings: { reconcileSchedule } });
    const accepted = [
      'rate(1 minute)',
      'rate(2 hours)',
      'cron(0/5 8-17 ? * MON-FRI *)',
      'cron(0 9 ? * 2#1 *)',
      'cron(0 12 LW * ? *)',
      'cron(0 12 ? * 6L 2026-2030)',
    ];
    for (const expression of accepted) {
      assert.equal(parseConfig(withSchedule(expression)).settings.reconcileSchedule, expression);
    }
    const refusals: [string, RegExp][] = [
      ['every 5 minutes', /must be rate\(\.\.\.\) or cron\(\.\.\.\)/],
      ['rate(30 seconds)', /rate\(30 seconds\): EventBridge rates start at 1 minute/],
      ['rate(5 minute)', /EventBridge wants rate\(5 minutes\)/],
      ['cron(0 10 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
      ['cron(0 10 * * ?)', /has 5 fields; EventBridge takes 6/],
      ['cron(0 10 ? * 3#1,6#3 *)', /cron day-of-week "3#1,6#3"/],
      ['cron(0 10 L-2 * ? *)', /cron day-of-month "L-2": days before the last are not supported/],
    ];
    for (const [expression, message] of refusals) {
      const error = errorOf(withSchedule(expression));
      assert.match(error, /^ {2}settings\.reconcileSchedule: /m, expression);
      assert.match(error, message, expression);
    }
  });

  describe('ordering between environments', () => {
    type Env = Record<string, unknown>;
    /** Apps `web` (environments staging, prod) and `db` (staging), with extra settings per environment. */
    const withOrdering = (web: Record<string, Env>, db: Env = {}) => {
      const input = structuredClone(valid) as unknown as { apps: { environments: Env[] }[] } & typeof valid;
      const [staging, prod] = input.apps[0]?.environments ?? [];
      Object.assign(staging ?? {}, web.staging);
      Object.assign(prod ?? {}, web.prod);
      input.apps.push({
        name: 'db',
        repository: 'shop',
        path: 'deploy/db',
        environments: [
          { name: 'staging', cluster: 'prod', namespace: 'db', trigger: { branches: ['main'] }, ...db },
        ],
      } as never);
      return input;
    };

    test('an environment depends on environments of any app; none by default', () => {
      const config = parseConfig(
        withOrdering({ staging: { dependsOn: [{ app: 'db', environment: 'staging' }] } }),
      );
      assert.deepEqual(config.apps[0]?.environments[0]?.dependsOn, [{ app: 'db', environment: 'staging' }]);
      assert.equal(config.apps[0]?.environments[1]?.dependsOn, undefined);
      assert.match(
        errorOf(withOrdering({ staging: { dependsOn: [{ app: 'db', environment: 'prod' }] } })),
        /apps\[0\]\.environments\[0\]\.dependsOn\[0\]: no environment prod of app db/,
      );
    });

    test('a dependency cycle is refused, naming it, however far round', () => {
      const cycle = errorOf(
        withOrdering(
          { staging: { dependsOn: [{ app: 'db', environment: 'staging' }] } },
          { dependsOn: [{ app: 'web', environment: 'staging' }] },
        ),
      );
      assert.match(
        cycle,
        /apps\[0\]\.environments\[0\]\.dependsOn: dependency cycle: web\/staging → db\/staging → web\/staging/,
      );
      assert.equal(cycle.match(/dependency cycle/g)?.length, 1, 'named once');
      assert.match(
        errorOf(withOrdering({ staging: { dependsOn: [{ app: 'web', environment: 'staging' }] } })),
        /dependency cycle: web\/staging → web\/staging/,
      );
      const throughFollow = errorOf(
        withOrdering(
          {
            staging: { dependsOn: [{ app: 'db', environment: 'staging' }] },
            prod: { trigger: undefined, follow: { environment: 'staging' } },
          },
          { dependsOn: [{ app: 'web', environment: 'prod' }] },
        ),
      );
      assert.match(throughFollow, /dependency cycle: web\/staging → db\/staging → web\/prod → web\/staging/);
    });

    test('a follower follows another environment of its app, and has no trigger of its own', () => {
      const config = parseConfig(
        withOrdering({ prod: { trigger: undefined, follow: { environment: 'staging', healthyFor: '10m' } } }),
      );
      const prod = config.apps[0]?.environments[1];
      assert.deepEqual(prod?.follow, { environment: 'staging', healthyFor: '10m' });
      assert.deepEqual(prod?.trigger, { branches: [], tags: [], paths: [] });
      assert.equal(
        parseConfig(withOrdering({ prod: { trigger: undefined, follow: { environment: 'staging' } } }))
          .apps[0]?.environments[1]?.follow?.healthyFor,
        '0s',
      );
      assert.match(
        errorOf(withOrdering({ prod: { follow: { environment: 'staging' } } })),
        /apps\[0\]\.environments\[1\]\.trigger: a follower has no branch or tag patterns: it deploys what staging ran/,
      );
      assert.match(
        errorOf(withOrdering({ prod: { trigger: undefined, follow: { environment: 'qa' } } })),
        /environments\[1\]\.follow\.environment: no environment named "qa" in app web/,
      );
      assert.match(
        errorOf(withOrdering({ prod: { trigger: undefined, follow: { environment: 'prod' } } })),
        /environments\[1\]\.follow\.environment: an environment cannot follow itself/,
      );
      assert.match(
        errorOf(withOrdering({ prod: { trigger: undefined } })),
        /environments\[1\]\.trigger: needs at least one branch or tag pattern/,
        'without follow, a trigger is needed',
      );
      for (const healthyFor of ['10', '10 m', '1d', '', '721h']) {
        assert.match(
          errorOf(
            withOrdering({ prod: { trigger: undefined, follow: { environment: 'staging', healthyFor } } }),
          ),
          /environments\[1\]\.follow\.healthyFor/,
          healthyFor,
        );
      }
    });

    test('a parsed configuration parses again unchanged, as each function reads the one built into it', () => {
      const config = parseConfig(
        withOrdering({
          staging: { dependsOn: [{ app: 'db', environment: 'staging' }] },
          prod: { trigger: undefined, follow: { environment: 'staging', healthyFor: '1h30m' } },
        }),
      );
      assert.deepEqual(parseConfig(JSON.parse(JSON.stringify(config))), config);
    });
  });

  describe('notifications', () => {
    const withWebhooks = (webhooks: unknown[], extra: Record<string, unknown> = {}) => ({
      ...valid,
      notifications: { webhooks, ...extra },
    });
    const slack = { name: 'chat', type: 'slack', urlSecret: 'ferry/chat/url' };
    const json = {
      name: 'ops',
      type: 'json',
      url: 'https://ops.example.com/ferry',
      signingSecret: 'ferry/ops/signing',
    };

    test('none by default, and an OutOfSync alarm after 30 minutes', () => {
      assert.deepEqual(parseConfig(valid).notifications, { outOfSyncAlarmMinutes: 30, webhooks: [] });
    });

    test('Slack and JSON webhooks, filtered by app, environment and event', () => {
      const config = parseConfig(
        withWebhooks(
          [{ ...slack, apps: ['web'], environments: ['prod'], events: ['failed', 'recovered'] }, json],
          { outOfSyncAlarmMinutes: 60 },
        ),
      );
      assert.equal(config.notifications.outOfSyncAlarmMinutes, 60);
      assert.deepEqual(
        config.notifications.webhooks.map((w) => [w.type, w.name, w.events]),
        [
          ['slack', 'chat', ['failed', 'recovered']],
          ['json', 'ops', undefined],
        ],
      );
    });

    test('each kind names its secret; a JSON webhook needs a URL without credentials', () => {
      assert.match(
        errorOf(withWebhooks([{ ...slack, urlSecret: undefined }])),
        /notifications\.webhooks\[0\]\.urlSecret/,
      );
      assert.match(
        errorOf(withWebhooks([{ ...slack, url: 'https://hooks.slack.com/services/T/B/secret' }])),
        /notifications\.webhooks\[0\]: Unrecognized key/i,
        'a Slack URL is a secret: it is never written in the configuration',
      );
      assert.match(
        errorOf(withWebhooks([{ ...json, signingSecret: undefined }])),
        /notifications\.webhooks\[0\]\.signingSecret/,
      );
      const leaky = errorOf(withWebhooks([{ ...json, url: 'https://u:hunter2@ops.example.com/' }]));
      assert.match(leaky, /notifications\.webhooks\[0\]\.url: must not carry credentials/);
      assert.doesNotMatch(leaky, /hunter2/);
      assert.match(errorOf(withWebhooks([{ ...json, url: 'ftp://ops.example.com/' }])), /webhooks\[0\]\.url/);
      assert.match(errorOf(withWebhooks([{ ...json, type: 'teams' }])), /webhooks\[0\]\.type/);
    });

    test('names are unique; filters name configured apps, environments and known events', () => {
      assert.match(
        errorOf(withWebhooks([slack, { ...json, name: 'chat' }])),
        /webhooks\[1\]\.name: duplicate name "chat"/,
      );
      const message = errorOf(withWebhooks([{ ...slack, apps: ['web', 'shop'], environments: ['qa'] }]));
      assert.match(message, /notifications\.webhooks\[0\]\.apps\[1\]: no app named "shop"/);
      assert.match(message, /notifications\.webhooks\[0\]\.environments\[0\]: no environment named "qa"/);
      assert.match(
        errorOf(withWebhooks([{ ...slack, events: ['deployed'] }])),
        /notifications\.webhooks\[0\]\.events\[0\]: Invalid option/,
      );
      assert.match(errorOf(withWebhooks([{ ...slack, apps: [] }])), /webhooks\[0\]\.apps/);
    });

    test('the OutOfSync alarm window is 10 to 180 minutes', () => {
      for (const minutes of [10, 180]) {
        assert.equal(
          parseConfig(withWebhooks([], { outOfSyncAlarmMinutes: minutes })).notifications
            .outOfSyncAlarmMinutes,
          minutes,
        );
      }
      for (const minutes of [5, 181, 12.5]) {
        assert.match(
          errorOf(withWebhooks([], { outOfSyncAlarmMinutes: minutes })),
          /notifications\.outOfSyncAlarmMinutes/,
          String(minutes),
        );
      }
    });
  });
});
