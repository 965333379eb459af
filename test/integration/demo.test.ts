// The demo as a person starts it: `node bin/ferry.ts serve` (what `npm start` runs) in a working directory with
// no configuration, so that it starts the demo, its files under that temporary directory and Ferry on a free
// port. It builds nothing here (`npm test` built kube-apiserver first, into the same cache) and starts its own
// cluster and Git server beside the test bed's. The test follows what the demo prints: the status URL, the
// kubeconfig, and the commands that change the example and push it; then it presses Ctrl-C (SIGINT to the
// process group, as a terminal sends it) and looks for any process left.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureKubernetesBinaries, KUBERNETES_VERSIONS } from '../../devkit/kubernetes.ts';
import { run } from '../../devkit/process.ts';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import type { EnvironmentStatus, StatusReport } from '../../functions/adapters/local/status.ts';

const FERRY = new URL('../../bin/ferry.ts', import.meta.url).pathname;
const TIMEOUT = { timeout: 300_000 };

const children = new Set<ChildProcess>();
const cleanup: string[] = [];
after(async () => {
  for (const child of children) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The environment of a person's shell: no configuration named, nor a state directory. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.FERRY_CONFIG_FILE;
  delete env.FERRY_STATE_DIR;
  return env;
}

/** A working directory of its own, removed after the tests. */
async function workingDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
  cleanup.push(dir);
  return dir;
}

/** `node bin/ferry.ts <args>` in `cwd`, in a process group of its own (as a terminal starts a command). */
class Ferry {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';

  constructor(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [FERRY, ...args], {
      cwd,
      env: { ...userEnvironment(), ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.child.on('exit', () => children.delete(this.child));
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  /** Waits until standard output has a line matching `pattern`, or fails with what was printed. */
  async printed(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = pattern.exec(this.stdout);
      if (found !== null) return found;
      if (this.child.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`not printed: ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
  }

  /** Ctrl-C: SIGINT to the whole process group; resolves with the exit code and how long it took. */
  async interrupt(timeoutMs = 60_000): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    const exited = once(this.child, 'exit');
    process.kill(-(this.child.pid ?? 0), 'SIGINT');
    const [code] = (await Promise.race([
      exited,
      sleep(timeoutMs, undefined, { ref: false }).then(() => {
        throw new Error(`still running ${timeoutMs / 1000}s after Ctrl-C:\n${this.stdout}\n${this.stderr}`);
      }),
    ])) as [number | null];
    return { code, ms: Date.now() - started };
  }

  async exit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const [code] = (await once(this.child, 'exit')) as [number | null];
    return code;
  }
}

/** What the demo printed once it runs. */
interface Banner {
  readonly status: string;
  readonly kubeconfig: string;
  readonly example: string;
  /** The commands that change the example and push it, then the one that releases it. */
  readonly change: readonly string[];
  readonly release: readonly string[];
}

function readBanner(stdout: string): Banner {
  const status = /^ {2}Status(?: JSON)?: +(http:\/\/\S+\/status)$/m.exec(stdout)?.[1];
  const kubeconfig = /^ {2}Cluster: .*kubeconfig (\S+)$/m.exec(stdout)?.[1];
  const example = /^ {2}Example: +(\S+) /m.exec(stdout)?.[1];
  const commands = stdout.split('\n').filter((line) => /^ {2}(echo|git) /.test(line));
  assert.ok(
    status && kubeconfig && example,
    `the banner names the status, kubeconfig and example:\n${stdout}`,
  );
  assert.equal(commands.length, 3, `two commands to change and push, one to release:\n${stdout}`);
  return {
    status,
    kubeconfig,
    example,
    change: commands.slice(0, 2).map((line) => line.trim()),
    release: commands.slice(2).map((line) => line.trim()),
  };
}

async function statusOf(url: string): Promise<StatusReport> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return (await response.json()) as StatusReport;
}

const partOf = (report: StatusReport, environment: string): EnvironmentStatus | undefined =>
  report.environments.find((e) => e.app === 'hello' && e.environment === environment && e.part === 'app');

/** Polls until `probe` answers, within the time given. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting until ${what}`);
}

/** Waits until the environment runs `commit` (from `ref`), Synced, and returns how long that took. */
async function deployed(url: string, environment: string, commit: string, ref: string): Promise<number> {
  const started = Date.now();
  await eventually(
    `${environment} runs ${commit.slice(0, 7)} from ${ref}`,
    async () => {
      const part = partOf(await statusOf(url), environment);
      const done =
        part?.sync.status === 'Synced' && part.lastApplied?.commit === commit && part.lastApplied.ref === ref;
      return done ? true : undefined;
    },
    30_000,
  );
  return Date.now() - started;
}

interface LiveDeployment {
  spec: {
    replicas: number;
    template: {
      spec: { containers: { env: { valueFrom: { configMapKeyRef: { name: string } } }[] }[] };
    };
  };
}

/** The message the environment's Deployment runs with: the data of the ConfigMap its pod template names. */
async function liveMessage(
  api: KubernetesApi,
  environment: string,
): Promise<{ message: string; replicas: number }> {
  const namespace = `hello-${environment}`;
  const deployment = await api.request<LiveDeployment>({
    method: 'GET',
    path: `/apis/apps/v1/namespaces/${namespace}/deployments/hello`,
  });
  const name = deployment.spec.template.spec.containers[0]?.env[0]?.valueFrom.configMapKeyRef.name;
  const configMap = await api.request<{ data: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
  });
  return { message: configMap.data['message.txt'] ?? '', replicas: deployment.spec.replicas };
}

/** Processes whose command line mentions `text` (the demo's directory): none may be left after Ctrl-C. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const line = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (line.includes(text)) found.push(`${pid}: ${line.replaceAll('\0', ' ').slice(0, 200)}`);
  }
  return found;
}

const sh = (command: string, cwd: string) => run('sh', ['-c', command], { cwd });

describe('npm start with no configuration: the demo', () => {
  test(
    'deploys the example to both environments; a push and a tag deploy; Ctrl-C stops it all',
    TIMEOUT,
    async (t) => {
      const cwd = await workingDirectory();
      const started = Date.now();
      const demo = new Ferry(cwd, ['serve', '--port', '0']);
      await demo.printed(/^Ctrl-C stops it all/m, 180_000);
      const startMs = Date.now() - started;
      assert.match(demo.stderr, /no configuration given .* or found .*: starting the demo/);
      assert.match(demo.stderr, /cp ferry\.config\.example\.yaml ferry\.config\.yaml/);
      const banner = readBanner(demo.stdout);
      assert.ok(banner.example.startsWith(join(cwd, '.ferry', 'demo')), 'its files are in .ferry/demo');
      assert.match(demo.stdout, /^ {4}staging +follows main +deployed [0-9a-f]{7} \(main\)$/m);
      assert.match(demo.stdout, /^ {4}production +follows tags v\* +deployed [0-9a-f]{7} \(v1\.0\.0\)$/m);

      // Both environments run the first commit, on the demo's own kube-apiserver.
      const first = (await run('git', ['-C', banner.example, 'rev-parse', 'HEAD'])).trim();
      const report = await statusOf(banner.status);
      for (const [environment, ref] of [
        ['staging', 'refs/heads/main'],
        ['production', 'refs/tags/v1.0.0'],
      ] as const) {
        const part = partOf(report, environment);
        assert.equal(part?.sync.status, 'Synced', JSON.stringify(part));
        assert.equal(part?.lastApplied?.commit, first);
        assert.equal(part?.lastApplied?.ref, ref);
      }
      const kubeconfig = new KubeConfig();
      kubeconfig.loadFromFile(banner.kubeconfig);
      const api = new KubernetesApi(kubeconfig);
      t.after(() => api.close());
      assert.notEqual(
        kubeconfig.getCurrentCluster()?.server,
        process.env.TESTBED_KUBE_SERVER,
        'its own cluster',
      );
      assert.deepEqual(await liveMessage(api, 'staging'), {
        message: "Hello from Ferry's demo!\n",
        replicas: 1,
      });
      assert.deepEqual(await liveMessage(api, 'production'), {
        message: "Hello from Ferry's demo!\n",
        replicas: 2,
      });
      const service = await api.request<{ spec: { ports: { port: number }[] } }>({
        method: 'GET',
        path: '/api/v1/namespaces/hello-staging/services/hello',
      });
      assert.equal(service.spec.ports[0]?.port, 80);

      // The printed commands change the message and push it: staging deploys it, production stays.
      for (const command of banner.change) await sh(command, cwd);
      const second = (await run('git', ['-C', banner.example, 'rev-parse', 'HEAD'])).trim();
      assert.notEqual(second, first);
      const pushMs = await deployed(banner.status, 'staging', second, 'refs/heads/main');
      assert.match(
        demo.stdout,
        /demo: push delivered as a signed GitHub webhook ref=refs\/heads\/main .*status=202/,
      );
      assert.deepEqual(await liveMessage(api, 'staging'), {
        message: 'Hello again, from my first change!\n',
        replicas: 1,
      });
      assert.equal(partOf(await statusOf(banner.status), 'production')?.lastApplied?.commit, first);

      // The release command tags it: production deploys it.
      for (const command of banner.release) await sh(command, cwd);
      const releaseMs = await deployed(banner.status, 'production', second, 'refs/tags/v1.0.1');
      assert.equal((await liveMessage(api, 'production')).message, 'Hello again, from my first change!\n');
      t.diagnostic(`demo started in ${startMs} ms; push deployed in ${pushMs} ms, tag in ${releaseMs} ms`);

      // Ctrl-C stops Ferry, then the Git server and the cluster: nothing is left running.
      const demoDir = join(cwd, '.ferry', 'demo');
      assert.ok(
        (await processesMentioning(demoDir)).length >= 2,
        'etcd and kube-apiserver run from its directory',
      );
      const stopped = await demo.interrupt();
      assert.equal(stopped.code, 0, demo.stderr);
      assert.match(demo.stdout, /INFO {2}stopped /);
      assert.match(demo.stdout, /demo: stopped/);
      assert.deepEqual(await processesMentioning(demoDir), []);
      // Stopped, not killed: etcd closed its store after kube-apiserver let go of it.
      const etcdLog = await readFile(join(demoDir, 'kubernetes', 'etcd.log'), 'utf8');
      assert.match(etcdLog, /"msg":"closed etcd server"/);
      assert.throws(
        () => process.kill(-(demo.child.pid ?? 0), 0),
        { code: 'ESRCH' },
        'its process group is gone',
      );
      t.diagnostic(`stopped in ${stopped.ms} ms`);
    },
  );

  test('started again on the same directory, it goes on from where it stopped', TIMEOUT, async () => {
    const cwd = await workingDirectory();
    const dir = join(cwd, 'kept');
    const firstRun = new Ferry(cwd, ['demo', '--dir', dir, '--port', '0']);
    await firstRun.printed(/^Ctrl-C stops it all/m, 180_000);
    const banner = readBanner(firstRun.stdout);
    for (const command of banner.change) await sh(command, cwd);
    const changed = (await run('git', ['-C', banner.example, 'rev-parse', 'HEAD'])).trim();
    await deployed(banner.status, 'staging', changed, 'refs/heads/main');
    assert.equal((await firstRun.interrupt()).code, 0);

    const secondRun = new Ferry(cwd, ['demo', '--dir', dir, '--port', '0']);
    await secondRun.printed(/^Ctrl-C stops it all/m, 180_000);
    const again = readBanner(secondRun.stdout);
    assert.equal(again.example, banner.example);
    assert.match(
      secondRun.stdout,
      new RegExp(`^ {4}staging .* deployed ${changed.slice(0, 7)} \\(main\\)$`, 'm'),
    );
    assert.deepEqual(again.release, [banner.release[0]], 'the next release is still v1.0.1');
    const report = await statusOf(again.status);
    assert.equal(partOf(report, 'staging')?.deployments.length, 2, 'no deployment was repeated');
    assert.equal((await secondRun.interrupt()).code, 0);
    assert.deepEqual(await processesMentioning(dir), []);
  });

  test('a second demo on the same directory is refused in one line', TIMEOUT, async () => {
    const cwd = await workingDirectory();
    const first = new Ferry(cwd, ['demo', '--port', '0']);
    await first.printed(/^Ctrl-C stops it all/m, 180_000);
    const second = new Ferry(cwd, ['demo', '--port', '0']);
    assert.equal(await second.exit(), 1);
    assert.match(
      second.stderr,
      /^ferry: another demo \(pid \d+\) runs in \S+: stop it, or pass --dir <another directory>\n$/,
    );
    assert.equal((await first.interrupt()).code, 0);
  });
});

describe('npm start with a configuration', () => {
  test(
    'a configuration given but missing names the example to copy; one in the directory is run',
    TIMEOUT,
    async () => {
      const cwd = await workingDirectory();
      for (const args of [
        ['serve', '--config', 'mine.yaml'],
        ['serve', '-c', 'mine.yaml'],
      ]) {
        const missing = new Ferry(cwd, args);
        assert.equal(await missing.exit(), 1);
        assert.equal(
          missing.stderr,
          'ferry: cannot read the configuration mine.yaml: no such file; start one from the example (cp ferry.config.example.yaml mine.yaml) or pass --config <file>\n',
        );
      }
      // A ferry.config.yaml in the working directory is what `serve` runs (here an invalid one): no demo.
      await writeFile(join(cwd, 'ferry.config.yaml'), 'repositories: []\n');
      const found = new Ferry(cwd, ['serve', '--port', '0']);
      assert.equal(await found.exit(), 1);
      assert.doesNotMatch(found.stderr, /demo/);
      assert.match(found.stderr, /^ferry: invalid ferry\.config\.yaml:\n/);
      assert.match(found.stderr, /^ {2}apps: /m);
    },
  );
});

describe('a missing prerequisite', () => {
  /** A PATH with only a shell and the named commands, as on a machine that lacks the others. */
  async function pathWith(commands: readonly string[]): Promise<string> {
    const bin = join(await workingDirectory(), 'bin');
    await mkdir(bin);
    for (const command of ['sh', ...commands]) {
      await symlink((await run('sh', ['-c', `command -v ${command}`])).trim(), join(bin, command));
    }
    return bin;
  }

  test('is one line saying what to install: git, then Go for the first build', TIMEOUT, async () => {
    const cwd = await workingDirectory();
    const withoutGit = new Ferry(cwd, ['serve', '--port', '0'], { PATH: await pathWith([]) });
    assert.equal(await withoutGit.exit(), 1);
    assert.match(withoutGit.stderr, /\nferry: git is not installed: install git 2\.30 or later\n$/);
    // Nothing built in this cache, and no Go to build it with.
    const withoutGo = new Ferry(cwd, ['serve', '--port', '0'], {
      PATH: await pathWith(['git']),
      FERRY_CACHE_DIR: await workingDirectory(),
    });
    assert.equal(await withoutGo.exit(), 1);
    assert.match(
      withoutGo.stderr,
      /\nferry: go is not installed: install Go 1\.24 or later \(https:\/\/go\.dev\/dl\) to build kube-apiserver\n$/,
    );
    assert.doesNotMatch(withoutGit.stderr + withoutGo.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('the kube-apiserver build', () => {
  test(
    'says it waits for the build of another process that holds the lock, then uses it',
    TIMEOUT,
    async () => {
      const cache = await workingDirectory();
      const version = KUBERNETES_VERSIONS[0];
      const dir = join(cache, `kube-${version}`);
      await mkdir(dir, { recursive: true });
      // Another process holds the build's lock, as a build in progress does.
      const holder = spawn('flock', [`${dir}.lock`, 'cat'], { stdio: ['pipe', 'ignore', 'inherit'] });
      children.add(holder);
      holder.on('exit', () => children.delete(holder));
      await eventually(
        'the lock is held',
        () =>
          run('flock', ['-n', `${dir}.lock`, 'true']).then(
            () => undefined,
            () => true,
          ),
        10_000,
      );
      const lines: string[] = [];
      const previous = process.env.FERRY_CACHE_DIR;
      process.env.FERRY_CACHE_DIR = cache;
      let binaries: Promise<unknown>;
      try {
        binaries = ensureKubernetesBinaries((line) => lines.push(line));
      } finally {
        if (previous === undefined) delete process.env.FERRY_CACHE_DIR;
        else process.env.FERRY_CACHE_DIR = previous;
      }
      await eventually('it says it waits', async () => (lines.length > 0 ? true : undefined), 30_000);
      assert.deepEqual(lines, [
        `kube-apiserver ${version}: another process is building it (it holds ${dir}.lock); waiting for that build`,
      ]);
      // The other process finishes: its binaries are there (the test bed's), and it lets the lock go.
      const built = dirname(process.env.TESTBED_KUBE_APISERVER_BIN ?? '');
      await mkdir(join(dir, 'bin'));
      await symlink(join(built, 'kube-apiserver'), join(dir, 'bin', 'kube-apiserver'));
      await symlink(join(built, 'etcd'), join(dir, 'bin', 'etcd'));
      holder.stdin?.end();
      assert.deepEqual(await binaries, {
        version,
        apiserver: join(dir, 'bin', 'kube-apiserver'),
        etcd: join(dir, 'bin', 'etcd'),
      });
      assert.match(
        lines[1] ?? '',
        new RegExp(`^kube-apiserver ${version}: the other process's build finished after \\d+s; using it$`),
      );
      assert.equal(lines.length, 2);
    },
  );
});
