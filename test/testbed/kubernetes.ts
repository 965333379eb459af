import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
  type Service,
} from './process.ts';

/** The pinned version first; the others are tried only when it fails to build. */
export const KUBERNETES_VERSIONS = ['v1.34.4', 'v1.35.4', 'v1.36.3'] as const;

const buildScript = fileURLToPath(new URL('build-kube-apiserver.sh', import.meta.url));

export interface KubernetesBinaries {
  readonly version: string;
  readonly apiserver: string;
  readonly etcd: string;
}

/** Builds (once, cached by version) kube-apiserver and etcd from the Go module proxy. */
export async function ensureKubernetesBinaries(log: (line: string) => void): Promise<KubernetesBinaries> {
  if (!(await hasCommand('go'))) {
    throw new MissingPrerequisite(
      'go is not installed: install Go 1.24 or later (https://go.dev/dl) to build kube-apiserver',
    );
  }
  const failures: string[] = [];
  for (const version of KUBERNETES_VERSIONS) {
    const dir = join(cacheDir(), `kube-${version}`);
    try {
      const started = Date.now();
      await run('bash', [buildScript, version, dir]);
      const seconds = Math.round((Date.now() - started) / 1000);
      if (seconds > 5) log(`built kube-apiserver ${version} in ${seconds}s (cached in ${dir})`);
      return { version, apiserver: join(dir, 'bin', 'kube-apiserver'), etcd: join(dir, 'bin', 'etcd') };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(`${version}: ${reason.split('\n').slice(-5).join('\n')}`);
      log(`kube-apiserver ${version} did not build; trying the next served version`);
    }
  }
  throw new Error(
    `kube-apiserver did not build at any of ${KUBERNETES_VERSIONS.join(', ')}:\n${failures.join('\n')}`,
  );
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

/** Starts etcd and kube-apiserver on free loopback ports, with token authentication for an admin. */
export async function startKubernetes(
  binaries: KubernetesBinaries,
  workDir: string,
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
  );
  await etcd.waitUntil(async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);

  const setup = await prepareApiserver({ binary: binaries.apiserver, etcdUrl, dir, port: apiPort });
  const apiserver = await runApiserver(setup).catch(async (error: unknown) => {
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
export async function runApiserver(setup: ApiserverSetup): Promise<ServerProcess> {
  const apiserver = new ServerProcess('kube-apiserver', setup.binary, setup.args, setup.dir);
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
