// `ferry --help` and `ferry status` stay fast because a command loads only what it uses: the help loads no
// package at all, and the local status neither the AWS SDK nor the Kubernetes client nor Git. Checked by the
// modules a run loads (timings on a shared machine would be flaky), with the times reported as diagnostics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { LOAD_LOG, loadedModules } from '../support/cli-start.ts';

const run = promisify(execFile);
const FERRY = new URL('../../bin/ferry.ts', import.meta.url).pathname;

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function loaded(args: readonly string[]): Promise<{ packages: string[]; ms: number; stdout: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'ferry-startup-'));
  dirs.push(cwd);
  const started = performance.now();
  const { stdout, stderr } = await run(process.execPath, ['--import', LOAD_LOG, FERRY, ...args], { cwd });
  const ms = performance.now() - started;
  const { packages } = loadedModules(stderr);
  return { packages, ms, stdout };
}

describe('lazy loading', () => {
  test('ferry --help loads no package', async (t) => {
    const { packages, ms, stdout } = await loaded(['--help']);
    assert.match(stdout, /^Usage: ferry <command>/);
    assert.deepEqual(packages, []);
    t.diagnostic(`ferry --help took ${Math.round(ms)} ms with the loader hook`);
  });

  test('ferry status on a state directory loads neither the AWS SDK, the Kubernetes client nor Git', async (t) => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ferry-startup-state-'));
    dirs.push(stateDir);
    openDatabase(stateDir).close();
    const { packages, ms, stdout } = await loaded(['status', '--state-dir', stateDir]);
    assert.match(stdout, /No environment deployed or configured yet/);
    const heavy = packages.filter((p) =>
      /^(@aws-sdk|@smithy|@kubernetes|isomorphic-git|aws-cdk-lib)/.test(p),
    );
    assert.deepEqual(heavy, [], `loaded: ${packages.join(', ')}`);
    t.diagnostic(`ferry status took ${Math.round(ms)} ms, loading ${packages.join(', ') || 'no package'}`);
  });

  test('ferry status reads the state while another process holds its write lock', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ferry-startup-state-'));
    dirs.push(stateDir);
    const writer = openDatabase(stateDir);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const { stdout } = await loaded(['status', '--state-dir', stateDir]);
      assert.match(stdout, /No environment deployed or configured yet/);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });

  // js-yaml is loaded by the configuration's module (with zod, which other modules may load too) and by
  // nothing else that status runs: it tells whether the file was validated.
  test('ferry status validates a configuration once per change of it, not loading yaml after that', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-startup-config-'));
    dirs.push(dir);
    openDatabase(dir).close();
    const file = join(dir, 'ferry.config.yaml');
    await writeFile(file, JSON.stringify(config(['staging'])));
    const status = ['status', '--config', file, '--state-dir', dir];
    const first = await loaded(status);
    assert.ok(first.packages.includes('js-yaml'), `loaded: ${first.packages.join(', ')}`);
    assert.match(first.stdout, /shop\/staging\/app/);
    const second = await loaded(status);
    assert.ok(!second.packages.includes('js-yaml'), `loaded: ${second.packages.join(', ')}`);
    assert.equal(second.stdout, first.stdout);
    await writeFile(file, JSON.stringify(config(['staging', 'production'])));
    const edited = await loaded(status);
    assert.ok(edited.packages.includes('js-yaml'), `loaded: ${edited.packages.join(', ')}`);
    assert.match(edited.stdout, /shop\/production\/app/);
  });
});

/** A configuration of one app with these environments. */
const config = (environments: readonly string[]) => ({
  repositories: [
    { name: 'shop', url: 'https://git.example.com/shop.git', provider: 'github', webhookSecret: 'h' },
  ],
  clusters: [{ name: 'testbed', type: 'eks', clusterName: 'testbed', region: 'us-east-1' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy',
      environments: environments.map((name) => ({
        name,
        cluster: 'testbed',
        namespace: 'shop',
        trigger: { branches: ['main'] },
      })),
    },
  ],
});
