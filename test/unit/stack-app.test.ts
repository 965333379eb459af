// The CDK app around FerryStack: configuration checks at synth, cdk-nag, `node bin/app.ts` as the CLI runs it,
// and the bundles that esbuild builds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { ConfigError } from '../../functions/core/config.ts';
import { loadDeploymentConfig } from '../../lib/deployment-config.ts';
import { buildFerryApp } from '../../lib/ferry-app.ts';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../../lib/ferry-function.ts';

const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
).context;
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/config/${name}.yaml`, import.meta.url));

const scratch = await mkdtemp(join(tmpdir(), 'ferry-cdk-'));
after(() => rm(scratch, { recursive: true, force: true }));
let outdirs = 0;
const outdir = () => join(scratch, `out-${++outdirs}`);

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: unknown[];
    suppressedViolations?: { ruleName: string; reason: string }[];
  }[];
}

const readReport = (dir: string): ValidationReport =>
  JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8'));

describe('configuration at synth', () => {
  test('an invalid file is refused with every offending field named', async () => {
    await assert.rejects(loadDeploymentConfig(fixture('invalid')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /apps\[0\]\.environments\[0\]\.cluster: no cluster named "mian"/);
      assert.match(error.message, /settings\.reconcileSchedule: must be rate\(\.\.\.\) or cron\(\.\.\.\)/);
      return true;
    });
  });

  test('a kubeconfig cluster is refused for AWS, naming the field', async () => {
    await assert.rejects(loadDeploymentConfig(fixture('kubeconfig-cluster')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /clusters\[1\]\.type: "kubeconfig" clusters are for the local mode/);
      return true;
    });
  });

  test('a missing file says which, and how to make one', async () => {
    const path = join(scratch, 'nowhere.yaml');
    await assert.rejects(loadDeploymentConfig(path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(path));
      assert.match(error.message, /ferry\.config\.example\.yaml/);
      return true;
    });
  });

  test('the example configuration at the project root is valid for AWS', async () => {
    const config = await loadDeploymentConfig(join(PROJECT_ROOT, 'ferry.config.example.yaml'));
    assert.ok(config.clusters.every((cluster) => cluster.type === 'eks'));
  });
});

describe('cdk-nag', () => {
  const app = (config: string, context: Record<string, unknown> = {}) =>
    new App({
      outdir: outdir(),
      context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], config: fixture(config), ...context },
    });

  for (const [name, context] of [
    ['full', {}],
    ['minimal', { tracing: 'true', alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops' }],
    ['notifications', { notificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:ferry-events' }],
  ] as const) {
    test(`AwsSolutions passes, every acknowledgment with its reason (${name}, ${JSON.stringify(context)})`, async () => {
      const ferry = app(name, context);
      await buildFerryApp(ferry);
      const assembly = ferry.synth();
      const report = readReport(assembly.directory);
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      assert.ok(nag, 'cdk-nag did not run');
      assert.equal(nag.conclusion, 'success');
      assert.deepEqual(nag.violations, []);
      for (const suppressed of nag.suppressedViolations ?? []) {
        assert.ok(suppressed.reason.length > 40, `${suppressed.ruleName}: ${suppressed.reason}`);
      }
      // The only acknowledgments: the webhook route's own authentication, and X-Ray's wildcard when traced.
      const rules = [...new Set((nag.suppressedViolations ?? []).map((s) => s.ruleName))].sort();
      assert.deepEqual(
        rules,
        'tracing' in context
          ? ['AwsSolutions-APIG4', 'AwsSolutions-IAM5[Resource::*]']
          : ['AwsSolutions-APIG4'],
      );
    });
  }

  test('a finding stops the synth', async () => {
    const ferry = app('minimal');
    const stack = await buildFerryApp(ferry);
    new Queue(stack, 'Unencrypted', { enforceSSL: false });
    assert.throws(() => ferry.synth(), /Validation failed/);
    const nag = readReport(ferry.outdir).pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    assert.equal(nag?.conclusion, 'failure');
    assert.match(JSON.stringify(nag?.violations), /AwsSolutions-SQS4/);
  });
});

/** Runs `node bin/app.ts` as the CDK CLI does: context and output directory in the environment. */
async function runApp(context: Record<string, unknown>) {
  const dir = outdir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_OUTDIR: dir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
  };
  // Synth needs no credentials: take away any the test run has.
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  const child = spawn(process.execPath, ['bin/app.ts'], { cwd: PROJECT_ROOT, env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr, dir };
}

describe('bin/app.ts', () => {
  test('a broken configuration stops the synth with the field named, and writes no template', async () => {
    const { code, stderr, dir } = await runApp({ ...cdkContext, config: fixture('invalid') });
    assert.equal(code, 1);
    assert.match(stderr, /apps\[0\]\.environments\[0\]\.cluster/);
    assert.match(stderr, /settings\.reconcileSchedule/);
    assert.equal(existsSync(join(dir, 'Ferry.template.json')), false);
  });

  test('a valid configuration synthesises without credentials, cdk-nag clean', async () => {
    const { code, stderr, dir } = await runApp({
      ...cdkContext,
      'aws:cdk:bundling-stacks': [],
      config: fixture('full'),
    });
    assert.equal(code, 0, stderr);
    const template = JSON.parse(readFileSync(join(dir, 'Ferry.template.json'), 'utf8'));
    assert.ok(template.Outputs.WebhookUrl);
    const nag = readReport(dir).pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    assert.deepEqual(nag?.violations, []);
  });
});

describe('bundles', () => {
  test('esbuild builds ESM bundles with source maps, the configuration inlined and the AWS SDK left out', async () => {
    const ferry = new App({ outdir: outdir(), context: { ...cdkContext, config: fixture('full') } });
    await buildFerryApp(ferry);
    const assembly = ferry.synth();
    const bundles = readdirSync(assembly.directory)
      .map((name) => join(assembly.directory, name))
      .filter((dir) => existsSync(join(dir, 'index.mjs')));
    assert.equal(bundles.length, 4);
    const config = await loadDeploymentConfig(fixture('full'));
    const inlined = JSON.stringify(config);
    let withConfig = 0;
    for (const dir of bundles) {
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      assert.ok(code.startsWith(ESM_REQUIRE_BANNER), `${dir}: no createRequire banner`);
      assert.ok(existsSync(join(dir, 'index.mjs.map')), `${dir}: no source map`);
      // Every import left in the bundle is Node's or the AWS SDK's, which the runtime provides.
      const specifiers = [
        ...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w${},*\s]+from\s*)?["']([^"']+)["']/g),
      ].map((m) => m[1] ?? '');
      for (const specifier of specifiers) {
        const external = builtinModules.includes(specifier) || /^(node:|@aws-sdk\/)/.test(specifier);
        assert.ok(external, `${dir} imports ${specifier}`);
      }
      assert.ok(!code.includes('process.env.FERRY_CONFIG_JSON'), `${dir}: FERRY_CONFIG_JSON not replaced`);
      // The configuration as a string literal: esbuild may re-quote it, so look for its inside.
      if (code.includes(inlined.slice(1, -1))) withConfig++;
    }
    // The functions that read the configuration (at least the webhook and worker) carry it.
    assert.ok(withConfig >= 1, 'no bundle carries the configuration');
  });
});
