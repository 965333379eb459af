// A real kube-apiserver with etcd for the development kit (the test bed and the demo): built once from the Go
// module proxy and cached, then started on free loopback ports with an admin token.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cacheDir,
  freePort,
  hasCommand,
  MissingPrerequisite,
  run,
  ServerProcess,
  type ServerProcessOptions,
  type Service,
} from './process.ts';

/** The pinned version first; the others are tried only when it fails to build. */
export const KUBERNETES_VERSIONS = ['v1.34.4', 'v1.35.4', 'v1.36.3'] as const;

const buildScript = fileURLToPath(new URL('build-kube-apiserver.sh', import.meta.url));

/** How often a build, or a wait for another process's build, says it is still going. */
const PROGRESS_EVERY_MS = 30_000;

export interface KubernetesBinaries {
  readonly version: string;
  readonly apiserver: string;
  readonly etcd: string;
}

/**
 * Builds (once, cached by version) kube-apiserver and etcd from the Go module proxy. A build, or a wait for
 * another process that holds the build's lock, is told as it goes through `log`, saying which of the two it is.
 */
export async function ensureKubernetesBinaries(log: (line: string) => void): Promise<KubernetesBinaries> {
  const failures: string[] = [];
  for (const version of KUBERNETES_VERSIONS) {
    const dir = join(cacheDir(), `kube-${version}`);
    const binaries = {
      version,
      apiserver: join(dir, 'bin', 'kube-apiserver'),
      etcd: join(dir, 'bin', 'etcd'),
    };
    if (existsSync(binaries.apiserver) && existsSync(binaries.etcd)) return binaries;
    if (!(await hasCommand('go'))) {
      throw new MissingPrerequisite(
        'go is not installed: install Go 1.24 or later (https://go.dev/dl) to build kube-apiserver',
      );
    }
    const progress = new BuildProgress(version, dir, log);
    try {
      await run('bash', [buildScript, version, dir], { onLine: (line) => progress.line(line) });
      progress.end();
      return binaries;
    } catch (error) {
      progress.end(false);
      const reason = error instanceof Error ? error.message : String(error);
      const missing = /missing prerequisite: (.+)/.exec(reason)?.[1];
      if (missing !== undefined) throw new MissingPrerequisite(missing);
      failures.push(`${version}: ${reason.split('\n').slice(-5).join('\n')}`);
      log(`kube-apiserver ${version} did not build; trying the next served version`);
    }
  }
  throw new Error(
    `kube-apiserver did not build at any of ${KUBERNETES_VERSIONS.join(', ')}:\n${failures.join('\n')}`,
  );
}

/** The build script's `progress:` lines, told as they come and again every half minute while nothing moves. */
class BuildProgress {
  readonly #what: string;
  readonly #dir: string;
  readonly #log: (line: string) => void;
  readonly #timer: NodeJS.Timeout;
  #phase: 'starting' | 'waiting' | 'building' = 'starting';
  #step = 'preparing';
  #since = Date.now();

  constructor(version: string, dir: string, log: (line: string) => void) {
    this.#what = `kube-apiserver ${version}`;
    this.#dir = dir;
    this.#log = log;
    this.#timer = setInterval(() => this.#still(), PROGRESS_EVERY_MS).unref();
  }

  line(line: string): void {
    const phase = /^progress: (.+)$/.exec(line)?.[1];
    if (phase === undefined) return;
    if (phase === 'waiting') {
      this.#phase = 'waiting';
      this.#log(
        `${this.#what}: another process is building it (it holds ${this.#dir}.lock); waiting for that build`,
      );
    } else if (phase === 'building') {
      this.#phase = 'building';
      this.#since = Date.now();
      this.#log(
        `${this.#what}: building it and etcd from the Go module proxy, once: about 3.5 minutes on 2 cores (cached in ${this.#dir})`,
      );
    } else {
      this.#step = phase;
      this.#log(`${this.#what}: ${phase}`);
    }
  }

  /** The build or the wait is over; `ok` false when the build failed. */
  end(ok = true): void {
    clearInterval(this.#timer);
    const took = elapsed(this.#since);
    if (ok && this.#phase === 'building') this.#log(`${this.#what}: built with etcd in ${took}`);
    if (ok && this.#phase === 'waiting') {
      this.#log(`${this.#what}: the other process's build finished after ${took}; using it`);
    }
  }

  #still(): void {
    const took = elapsed(this.#since);
    if (this.#phase === 'waiting')
      this.#log(`${this.#what}: still waiting for the other process's build (${took})`);
    if (this.#phase === 'building') this.#log(`${this.#what}: still ${this.#step} (${took} so far)`);
  }
}

/** `3m 29s`, `45s`. */
function elapsed(since: number): string {
  const seconds = Math.round((Date.now() - since) / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

export interface KubernetesEndpoint {
  readonly server: string;
  readonly caFile: string;
  /** A bearer token of a user in system:masters. */
  readonly token: string;
  readonly version: string;
  /** What a test needs to start another kube-apiserver on the same etcd (test/support/private-apiserver.ts). */
  readonly apiserverBinary: string;
  readonly etcdUrl: string;
}

/**
 * Starts etcd and kube-apiserver on free loopback ports, with token authentication for an admin. Their data
 * is kept in `workDir/kubernetes`: started again on the same directory, the cluster has what it had.
 */
export async function startKubernetes(
  binaries: KubernetesBinaries,
  workDir: string,
  options: ServerProcessOptions = {},
): Promise<KubernetesEndpoint & Service> {
  const dir = join(workDir, 'kubernetes');
  await mkdir(dir, { recursive: true });
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;

  const etcd = new ServerProcess(
    'etcd',
    binaries.etcd,
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync',
      '--quota-backend-bytes=8589934592',
    ],
    dir,
    process.env,
    options,
  );
  await etcd.waitUntil(async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);

  const setup = await prepareApiserver({ binary: binaries.apiserver, etcdUrl, dir, port: apiPort });
  const apiserver = await runApiserver(setup, options).catch(async (error: unknown) => {
    await etcd.stop();
    throw error;
  });
  return {
    name: 'kubernetes',
    server: setup.server,
    caFile: setup.caFile,
    token: setup.token,
    version: binaries.version,
    apiserverBinary: binaries.apiserver,
    etcdUrl,
    async stop() {
      await apiserver.stop();
      await etcd.stop();
    },
  };
}

export interface ApiserverOptions {
  readonly binary: string;
  readonly etcdUrl: string;
  /** Holds its cert dir, token file, service-account keys and log; kept across restarts. */
  readonly dir: string;
  readonly port: number;
  /** Flags beyond the common ones, such as an `--etcd-prefix`. */
  readonly extraArgs?: readonly string[];
}

/** A kube-apiserver ready to be started, and started again, on the same port, cert dir and token. */
export interface ApiserverSetup {
  readonly server: string;
  readonly caFile: string;
  readonly token: string;
  readonly binary: string;
  readonly dir: string;
  readonly args: readonly string[];
}

/** Writes an admin token file and service-account keys into `dir`, and builds the flags that use them. */
export async function prepareApiserver(options: ApiserverOptions): Promise<ApiserverSetup> {
  const { binary, etcdUrl, dir, port, extraArgs = [] } = options;
  await mkdir(join(dir, 'certs'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saPublic = join(dir, 'sa.pub');
  const saPrivate = join(dir, 'sa.key');
  await writeFile(saPublic, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(saPrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  const server = `https://127.0.0.1:${port}`;
  // The flags controller-runtime's envtest starts its apiserver with, plus token authentication.
  const args = [
    '--advertise-address=127.0.0.1',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--etcd-servers=${etcdUrl}`,
    '--service-cluster-ip-range=10.0.0.0/16',
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    `--token-auth-file=${tokenFile}`,
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${saPublic}`,
    `--service-account-signing-key-file=${saPrivate}`,
    ...extraArgs,
  ];
  // kube-apiserver writes a self-signed serving certificate, with its CA, here on its first start.
  return { server, caFile: join(dir, 'certs', 'apiserver.crt'), token, binary, dir, args };
}

/** Starts kube-apiserver and waits until /readyz answers. */
export async function runApiserver(
  setup: ApiserverSetup,
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const apiserver = new ServerProcess(
    'kube-apiserver',
    setup.binary,
    setup.args,
    setup.dir,
    process.env,
    options,
  );
  try {
    await apiserver.waitUntil(() => isReady(setup.server, setup.token), 120_000);
  } catch (error) {
    await apiserver.stop();
    throw error;
  }
  return apiserver;
}

/** /readyz answers 200 once every post-start hook has run (built-in APIs, RBAC bootstrap). */
function isReady(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${server}/readyz`,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.end();
  });
}
