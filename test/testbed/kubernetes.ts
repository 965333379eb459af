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
}

/** Starts etcd and kube-apiserver on free loopback ports, with token authentication for an admin. */
export async function startKubernetes(
  binaries: KubernetesBinaries,
  workDir: string,
): Promise<KubernetesEndpoint & Service> {
  const dir = join(workDir, 'kubernetes');
  await mkdir(join(dir, 'certs'), { recursive: true });
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];

  const etcd = new ServerProcess(
    'etcd',
    binaries.etcd,
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync',
      '--quota-backend-bytes=8589934592',
    ],
    dir,
  );
  await etcd.waitUntil(async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok, 30_000);

  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saPublic = join(dir, 'sa.pub');
  const saPrivate = join(dir, 'sa.key');
  await writeFile(saPublic, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(saPrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  const server = `https://127.0.0.1:${apiPort}`;
  // The flags controller-runtime's envtest starts its apiserver with, plus token authentication.
  const apiserver = new ServerProcess(
    'kube-apiserver',
    binaries.apiserver,
    [
      '--advertise-address=127.0.0.1',
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--service-cluster-ip-range=10.0.0.0/16',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      '--disable-admission-plugins=ServiceAccount',
      `--token-auth-file=${tokenFile}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${saPublic}`,
      `--service-account-signing-key-file=${saPrivate}`,
    ],
    dir,
  );
  const caFile = join(dir, 'certs', 'apiserver.crt');
  await apiserver.waitUntil(() => isReady(server, token), 120_000);

  return {
    name: 'kubernetes',
    server,
    caFile,
    token,
    version: binaries.version,
    async stop() {
      await apiserver.stop();
      await etcd.stop();
    },
  };
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
