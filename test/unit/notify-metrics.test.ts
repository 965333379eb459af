// The metrics the worker and the reconciler publish, read from the embedded metric format that Powertools
// writes to stdout (in a process of their own, as in Lambda), and matched against the stack's alarm and
// dashboard queries: a metric published under dimensions that no query names would be lost to them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { CheckRecord, DeploymentRecord } from '../../functions/core/model/records.ts';
import type { CheckResult } from '../../functions/core/reconcile/check.ts';
import { PROJECT_ROOT } from '../../lib/ferry-function.ts';
import { QUERIES } from '../../lib/observability.ts';

interface Emf {
  readonly _aws: {
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: { Name: string; Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

type Call =
  | { readonly fn: 'publishDeployment'; readonly record: DeploymentRecord; readonly durationMs: number }
  | { readonly fn: 'publishChecks'; readonly results: readonly CheckResult[] }
  | { readonly fn: 'publishFeedbackFailure'; readonly what: string; readonly detail: object };

/** Runs the calls in a fresh Node process with a Powertools `Metrics` and returns what it wrote. */
async function publish(service: string, calls: readonly Call[]): Promise<Emf[]> {
  const script = `
    import { Metrics } from '@aws-lambda-powertools/metrics';
    import * as helper from './functions/adapters/aws/metrics.ts';
    const metrics = new Metrics({ namespace: 'Ferry', serviceName: ${JSON.stringify(service)} });
    const key = { app: 'shop', environment: 'production', part: 'app' };
    for (const call of JSON.parse(process.argv[1])) {
      if (call.fn === 'publishDeployment') helper.publishDeployment(metrics, call.record, call.durationMs);
      if (call.fn === 'publishChecks') helper.publishChecks(metrics, call.results.map((result) => ({ key, result })));
      if (call.fn === 'publishFeedbackFailure') helper.publishFeedbackFailure(metrics, call.what, call.detail);
    }`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '--no-warnings', '-e', script, JSON.stringify(calls)],
    { cwd: PROJECT_ROOT, env: { ...process.env, POWERTOOLS_DEV: '' } },
  );
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Emf)
    .filter((emf) => emf._aws !== undefined);
}

/** Each metric with its dimension set (sorted) and value. */
function flatten(lines: readonly Emf[]): { name: string; dimensions: string[]; value: unknown; emf: Emf }[] {
  return lines.flatMap((emf) =>
    emf._aws.CloudWatchMetrics.flatMap((directive) => {
      assert.equal(directive.Namespace, 'Ferry');
      assert.equal(directive.Dimensions.length, 1, 'one dimension set: a data point is counted once');
      const dimensions = [...(directive.Dimensions[0] ?? [])].sort();
      return directive.Metrics.map((m) => ({ name: m.Name, dimensions, value: emf[m.Name], emf }));
    }),
  );
}

const record = (overrides: Partial<DeploymentRecord>): DeploymentRecord => ({
  id: 'd1',
  jobId: 'j1',
  key: { app: 'shop', environment: 'production', part: 'app' },
  commit: '3f2c1a9e0b4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f',
  ref: 'refs/heads/main',
  trigger: { kind: 'push', deliveryId: 'x', provider: 'github' },
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:00:04.200Z',
  result: 'succeeded',
  message: 'applied',
  objects: [
    { object: 'Deployment shop/web', action: 'created' },
    { object: 'Service shop/web', action: 'configured' },
    { object: 'Job shop/migrate', action: 'recreated' },
    { object: 'ConfigMap shop/a', action: 'unchanged' },
    { object: 'ConfigMap shop/old', action: 'pruned' },
  ],
  ...overrides,
});

const check = (action: CheckRecord['action'], drifted = 0, outOfSyncSince?: string): CheckResult => ({
  id: 'c1',
  at: '2026-12-01T10:00:00.000Z',
  drifted: Array.from({ length: drifted }, (_, i) => ({ object: `ConfigMap shop/${i}`, reason: 'missing' })),
  action,
  message: action,
  ...(outOfSyncSince === undefined ? {} : { outOfSyncSince }),
});

describe('worker metrics', () => {
  test('a finished deployment: by result, and its duration and objects, by app and environment', async () => {
    const metrics = flatten(
      await publish('worker', [
        { fn: 'publishDeployment', record: record({}), durationMs: 4200 },
        { fn: 'publishDeployment', record: record({ result: 'current', objects: [] }), durationMs: 80 },
      ]),
    );
    assert.deepEqual(
      metrics.map((m) => [m.name, m.dimensions.join(','), m.value, m.emf.result ?? '']),
      [
        ['Deployments', 'app,environment,result,service', 1, 'succeeded'],
        ['DeployDuration', 'app,environment,service', 4200, ''],
        ['ObjectsApplied', 'app,environment,service', 3, ''],
        ['ObjectsPruned', 'app,environment,service', 1, ''],
        ['Deployments', 'app,environment,result,service', 1, 'current'],
      ],
      'a job found current is counted, but took no time worth averaging',
    );
    for (const m of metrics)
      assert.deepEqual([m.emf.app, m.emf.environment, m.emf.service], ['shop', 'production', 'worker']);
  });
});

describe('reconciler metrics', () => {
  test('a batch of checks: by action, the parts left OutOfSync and the longest of them, failed checks by app environment', async () => {
    const metrics = flatten(
      await publish('reconciler', [
        {
          fn: 'publishChecks',
          results: [
            check('out-of-sync', 2, '2026-12-01T09:20:00.000Z'),
            check('none'),
            check('heal', 1, '2026-12-01T09:55:00.000Z'),
            check('none'),
            check('error'),
          ],
        },
        { fn: 'publishChecks', results: [check('none'), check('pinned')] },
      ]),
    );
    const gauges = (name: string) =>
      metrics.filter((m) => m.name === name).map((m) => [m.value, m.dimensions.join(',')]);
    assert.deepEqual(gauges('OutOfSync'), [
      [2, 'service'],
      [0, 'service'],
    ]);
    assert.deepEqual(
      gauges('LongestOutOfSync'),
      [
        [40 * 60, 'service'],
        [0, 'service'],
      ],
      'seconds since the longest OutOfSync part went so; a pinned part is held there on purpose',
    );
    assert.deepEqual(
      metrics.filter((m) => m.name === 'Checks').map((m) => [m.emf.action, m.value, m.dimensions.join(',')]),
      [
        ['out-of-sync', 1, 'action,service'],
        ['none', 2, 'action,service'],
        ['heal', 1, 'action,service'],
        ['error', 1, 'action,service'],
        ['none', 1, 'action,service'],
        ['pinned', 1, 'action,service'],
      ],
      'one data point per action and batch',
    );
    assert.deepEqual(
      metrics.filter((m) => m.name === 'DriftedObjects').map((m) => m.value),
      [2, 0, 1, 0, 0, 0],
    );
    assert.deepEqual(gauges('ChecksFailed'), [[1, 'app,environment,service']]);
    assert.ok(
      metrics.every((m) => m.emf.part === undefined),
      'no series per part: each would be billed by the month',
    );
  });

  test('feedback that failed for good: status posts, and notifications by notifier', async () => {
    const metrics = flatten(
      await publish('reconciler', [
        { fn: 'publishFeedbackFailure', what: 'status', detail: { context: 'ferry/shop/production' } },
        { fn: 'publishFeedbackFailure', what: 'notification', detail: { notifier: 'slack/chat' } },
      ]),
    );
    assert.deepEqual(
      metrics.map((m) => [m.name, m.dimensions.join(','), m.emf.notifier ?? '']),
      [
        ['StatusPostsFailed', 'service', ''],
        ['NotificationsFailed', 'notifier,service', 'slack/chat'],
      ],
    );
  });
});

describe('the stack reads what the functions publish', () => {
  test('every published metric is queried under the dimensions it is published with', async () => {
    const published = flatten([
      ...(await publish('worker', [{ fn: 'publishDeployment', record: record({}), durationMs: 1 }])),
      ...(await publish('reconciler', [
        { fn: 'publishChecks', results: [check('none'), check('error')] },
        { fn: 'publishFeedbackFailure', what: 'status', detail: {} },
        { fn: 'publishFeedbackFailure', what: 'notification', detail: { notifier: 'sns' } },
      ])),
    ]);
    const queried = Object.values(QUERIES).map((query) => {
      const match = /^SELECT \w+\((\w+)\) FROM SCHEMA\("Ferry", ([\w, ]+)\)/.exec(query);
      assert.ok(match, query);
      return `${match[1]} ${(match[2] ?? '').split(', ').sort().join(',')}`;
    });
    const alarmed = new Set(['Deployments', 'LongestOutOfSync']);
    for (const m of published.filter((p) => !['Checks', 'DriftedObjects'].includes(p.name))) {
      assert.ok(
        queried.includes(`${m.name} ${m.dimensions.join(',')}`),
        `${m.name} {${m.dimensions}} is read by no query`,
      );
      alarmed.delete(m.name);
    }
    assert.deepEqual([...alarmed], [], 'the alarms’ metrics are published');
  });
});
