// A real Gitea for the test bed, so that webhooks come from a real sender and commit statuses land on a real API:
// built once from the Go module proxy and cached, then started per test bed with SQLite in a fresh directory.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import semver from 'semver';
import {
  cacheDir,
  freePort,
  hasCommand,
  MissingPrerequisite,
  run,
  ServerProcess,
  type Service,
} from './process.ts';

/** Gitea as the Go module proxy serves it; built once with SQLite, cached by version. */
export const GITEA_VERSION = 'v1.26.0';
const GITEA_MODULE = 'code.gitea.io/gitea';
const WHAT = `Gitea ${GITEA_VERSION}`;
const BUILD_TAGS = 'sqlite sqlite_unlock_notify';
/** CI shows a line at least this often while a build runs, or waits for another run's build. */
const PROGRESS_EVERY_MS = 30_000;
/**
 * Scopes of the test bed's token: repositories (with their hooks and commit statuses), and the user's own, which
 * creating a repository (`POST /user/repos`) needs besides.
 */
export const GITEA_TOKEN_SCOPES = ['write:repository', 'write:user'] as const;

export interface GiteaBuild {
  readonly version: string;
  readonly binary: string;
  /** The writable copy of the module it was built in: templates, locales and public files are read from it. */
  readonly sourceDir: string;
}

/**
 * Builds (once, cached by version) Gitea from its module on the Go module proxy. Its go.mod has `replace`
 * directives, which hold only in the main module, so it builds inside a writable copy of the module directory;
 * the copy stays in the cache because, without bindata, Gitea serves templates and locales from it.
 */
export async function ensureGitea(log: (line: string) => void): Promise<GiteaBuild> {
  const dir = join(cacheDir(), `gitea-${GITEA_VERSION}`);
  const build = { version: GITEA_VERSION, binary: join(dir, 'gitea'), sourceDir: dir };
  if (existsSync(build.binary)) return build;
  if (!(await hasCommand('go'))) {
    throw new MissingPrerequisite(
      `go is not installed: install Go (https://go.dev/dl) to build Gitea ${GITEA_VERSION}`,
    );
  }
  await mkdir(cacheDir(), { recursive: true });
  await withLock(`${dir}.lock`, log, async () => {
    if (existsSync(build.binary)) return;
    const started = Date.now();
    await buildGitea(dir, log);
    log(`${WHAT}: built in ${elapsed(started)}`);
  });
  return build;
}

async function buildGitea(dir: string, log: (line: string) => void): Promise<void> {
  // Left behind by a build that was killed; this process holds the lock, so no other build uses them.
  const prefix = `${basename(dir)}.build-`;
  for (const entry of await readdir(dirname(dir))) {
    if (entry.startsWith(prefix)) await rm(join(dirname(dir), entry), { recursive: true, force: true });
  }
  const env = { ...process.env, GOTOOLCHAIN: 'local' };
  log(`${WHAT}: building it from the Go module proxy, once: about 5 minutes on 2 cores (cached in ${dir})`);
  const moduleDir = await downloadModule(env);
  const work = await mkdtemp(join(dirname(dir), prefix));
  try {
    // The module cache is read-only: copy it, then let the build write its binary into the copy.
    await run('cp', ['-R', `${moduleDir}/.`, work]);
    await run('chmod', ['-R', 'u+w', work]);
    const ldflags = `-s -w -X main.Version=${GITEA_VERSION.slice(1)}`;
    const args = ['build', '-trimpath', '-buildvcs=false', '-tags', BUILD_TAGS, '-ldflags', ldflags];
    await withProgress(log, run('go', [...args, '-o', 'gitea', '.'], { cwd: work, env }));
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${WHAT} did not build:\n${reason.split('\n').slice(-8).join('\n')}`);
  }
}

/** The module's directory in the Go module cache, once the installed Go is known to be recent enough. */
async function downloadModule(env: NodeJS.ProcessEnv): Promise<string> {
  const module = JSON.parse(
    await run('go', ['mod', 'download', '-json', `${GITEA_MODULE}@${GITEA_VERSION}`], { env }),
  ) as { Dir?: string; GoMod?: string; Error?: string };
  if (module.Dir === undefined || module.GoMod === undefined) {
    throw new Error(
      `go mod download ${GITEA_MODULE}@${GITEA_VERSION}: ${module.Error ?? 'no module directory'}`,
    );
  }
  // The go.mod's `go` line: with GOTOOLCHAIN=local an older Go would stop the build instead of fetching one.
  const needed = /^go\s+(\S+)/m.exec(await readFile(module.GoMod, 'utf8'))?.[1];
  const installed = (await run('go', ['env', 'GOVERSION'], { env })).trim();
  const [need, have] = [semver.coerce(needed), semver.coerce(installed)];
  if (need !== null && have !== null && semver.lt(have, need)) {
    throw new MissingPrerequisite(
      `${WHAT} needs Go ${needed} or later, found ${installed}: install it from https://go.dev/dl`,
    );
  }
  return module.Dir;
}

/** `3m 29s`, `45s`, as the kube-apiserver build tells it. */
function elapsed(since: number): string {
  const seconds = Math.round((Date.now() - since) / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

/** Awaits the build, saying every PROGRESS_EVERY_MS that it is still going. */
async function withProgress<T>(log: (line: string) => void, task: Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => log(`${WHAT}: still building (${elapsed(started)} so far)`),
    PROGRESS_EVERY_MS,
  ).unref();
  try {
    return await task;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs `task` while holding a lock file that names its holder's pid, so that two test runs do not build at
 * once; a lock whose holder has died is taken over.
 */
async function withLock(file: string, log: (line: string) => void, task: () => Promise<void>): Promise<void> {
  const started = Date.now();
  let waiting = false;
  let reported = started;
  while (!(await tryLock(file))) {
    if (!waiting) log(`${WHAT}: another process is building it (it holds ${file}); waiting for that build`);
    waiting = true;
    if (Date.now() - reported >= PROGRESS_EVERY_MS) {
      reported = Date.now();
      log(`${WHAT}: still waiting for the other process's build (${elapsed(started)})`);
    }
    await sleep(1000);
  }
  if (waiting) log(`${WHAT}: the other process's build finished after ${elapsed(started)}`);
  try {
    await task();
  } finally {
    await rm(file, { force: true });
  }
}

/** Takes the lock, or a lock whose holder has died; false while another process holds it. */
async function tryLock(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (await lockHeld(file)) return false;
  await rm(file, { force: true });
  return tryLock(file);
}

/** True while the process named in the lock file lives (or, for a lock being written, for a few seconds). */
async function lockHeld(file: string): Promise<boolean> {
  const content = await readFile(file, 'utf8').catch(() => null);
  if (content === null) return false;
  const pid = Number.parseInt(content, 10);
  if (Number.isNaN(pid)) {
    const written = await stat(file).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    return Date.now() - written < 10_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface GiteaEndpoint {
  /** The API is at `${url}/api/v1`; repositories clone from `${url}/<owner>/<name>.git`. */
  readonly url: string;
  /** A site administrator, with the password for basic authentication. */
  readonly user: string;
  readonly password: string;
  /** An access token of that user with GITEA_TOKEN_SCOPES. */
  readonly token: string;
  readonly version: string;
}

/** Starts Gitea on a free loopback port with SQLite in a fresh directory, an administrator and a token. */
export async function startGitea(build: GiteaBuild, workDir: string): Promise<GiteaEndpoint & Service> {
  // Gitea takes only an absolute --work-path.
  const dir = resolve(workDir, 'gitea');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'app.ini');
  await writeFile(config, appIni({ dir, port, url, staticRoot: build.sourceDir }), { mode: 0o600 });
  const flags = ['--config', config, '--work-path', dir];
  const user = 'ferry';
  const password = randomBytes(12).toString('hex');
  await run(build.binary, ['migrate', ...flags]);
  await run(build.binary, [
    ...['admin', 'user', 'create', '--admin', '--username', user, '--password', password],
    ...['--email', `${user}@ferry.invalid`, '--must-change-password=false', ...flags],
  ]);
  const gitea = new ServerProcess('gitea', build.binary, ['web', ...flags], dir);
  try {
    await gitea.waitUntil(async () => (await fetch(`${url}/api/healthz`)).ok, 60_000);
    const token = await createToken(url, user, password);
    return { name: 'gitea', url, user, password, token, version: build.version, stop: () => gitea.stop() };
  } catch (error) {
    await gitea.stop();
    throw error;
  }
}

async function createToken(url: string, user: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/users/${user}/tokens`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'testbed', scopes: GITEA_TOKEN_SCOPES }),
  });
  if (!response.ok)
    throw new Error(`Gitea did not create a token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { sha1: string }).sha1;
}

interface AppIniOptions {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly staticRoot: string;
}

/** Gitea's configuration: everything under `dir`, no outside network, deliveries to loopback sent at once. */
function appIni({ dir, port, url, staticRoot }: AppIniOptions): string {
  const secret = () => randomBytes(24).toString('hex');
  // Gitea refuses to run as root unless this comes first, and CI runs the tests as root.
  return `I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
APP_NAME = Ferry test bed
RUN_MODE = prod
WORK_PATH = ${dir}

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
DOMAIN = 127.0.0.1
ROOT_URL = ${url}/
APP_DATA_PATH = ${join(dir, 'data')}
STATIC_ROOT_PATH = ${staticRoot}
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
GRACEFUL_HAMMER_TIME = 2s

[database]
DB_TYPE = sqlite3
PATH = ${join(dir, 'data', 'gitea.db')}

[repository]
ROOT = ${join(dir, 'repositories')}
DEFAULT_BRANCH = main

[repository.signing]
SIGNING_KEY = none

[security]
INSTALL_LOCK = true
SECRET_KEY = ${secret()}
INTERNAL_TOKEN = ${secret()}

[service]
DISABLE_REGISTRATION = true

[oauth2]
ENABLED = false

[mailer]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db

; Work is done as it is queued: a push's hooks are delivered right after the push.
[queue]
TYPE = immediate

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 3
SKIP_TLS_VERIFY = true

[actions]
ENABLED = false

[packages]
ENABLED = false

[cron.update_checker]
ENABLED = false

[log]
MODE = file
LEVEL = Info
ROOT_PATH = ${join(dir, 'log')}
`;
}
