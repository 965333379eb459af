import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AwsEndpoint, ensureMoto, startAws } from './aws.ts';
import { ensureChromium } from './browser.ts';
import { type GitEndpoint, startGit } from './git.ts';
import { ensureGitea, type GiteaEndpoint, startGitea } from './gitea.ts';
import { ensureKubernetesBinaries, type KubernetesEndpoint, startKubernetes } from './kubernetes.ts';
import { MissingPrerequisite, type Service } from './process.ts';

export { MissingPrerequisite };

export interface TestbedEndpoints {
  readonly kubernetes: KubernetesEndpoint;
  readonly aws: AwsEndpoint;
  readonly git: GitEndpoint;
  readonly gitea: GiteaEndpoint;
  /** The servers' data; removed when the test bed stops. Tests may keep their own servers' data under it. */
  readonly workDir: string;
}

export interface Testbed extends TestbedEndpoints {
  /** Stops every server and removes their data. */
  stop(): Promise<void>;
}

/** Starts a real kube-apiserver with etcd, moto, a Git smart-HTTP server and Gitea, each on a free loopback port. */
export async function startTestbed(log: (line: string) => void): Promise<Testbed> {
  // Builds and installs first, in parallel: they are the slow part of a first run and need no ports.
  const [binaries, motoServer, giteaBuild] = await Promise.all([
    ensureKubernetesBinaries(log),
    ensureMoto(log),
    ensureGitea(log),
  ]);
  const workDir = await mkdtemp(join(tmpdir(), 'ferry-testbed-'));
  const services: Service[] = [];
  const stop = async () => {
    await Promise.allSettled(services.reverse().map((service) => service.stop()));
    await rm(workDir, { recursive: true, force: true });
  };
  const track = <T extends Service>(service: T): T => {
    services.push(service);
    return service;
  };
  try {
    const [kubernetes, aws, git, gitea] = await Promise.all([
      startKubernetes(binaries, workDir).then(track),
      startAws(motoServer, workDir).then(track),
      startGit(workDir).then(track),
      startGitea(giteaBuild, workDir).then(track),
    ]);
    return { kubernetes, aws, git, gitea, workDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The environment through which test processes (and the AWS SDK) find the test bed. */
export function testbedEnvironment({
  kubernetes,
  aws,
  git,
  gitea,
  workDir,
}: TestbedEndpoints): Record<string, string> {
  return {
    TESTBED_KUBE_SERVER: kubernetes.server,
    TESTBED_KUBE_CA_FILE: kubernetes.caFile,
    TESTBED_KUBE_TOKEN: kubernetes.token,
    // For tests that start a kube-apiserver of their own on the same etcd (test/support/private-apiserver.ts).
    TESTBED_KUBE_APISERVER_BIN: kubernetes.apiserverBinary,
    TESTBED_ETCD_URL: kubernetes.etcdUrl,
    TESTBED_WORK_DIR: workDir,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testbed',
    AWS_SECRET_ACCESS_KEY: 'testbed',
    TESTBED_GIT_URL: git.baseUrl,
    TESTBED_GIT_TOKEN: git.token,
    TESTBED_GITEA_URL: gitea.url,
    TESTBED_GITEA_USER: gitea.user,
    TESTBED_GITEA_PASSWORD: gitea.password,
    TESTBED_GITEA_TOKEN: gitea.token,
  };
}

/**
 * Starts the test bed, runs `node <args>` with its environment, stops it, and exits with the child's code.
 * The entry point of `npm test` and `npm run bench`.
 */
export async function runWithTestbed(args: readonly string[]): Promise<never> {
  const log = (line: string) => console.log(`testbed: ${line}`);
  const started = Date.now();
  let testbed: Testbed;
  let chromium: string;
  try {
    // The status page's browser tests need Chromium: installed beside the servers where it is missing.
    [testbed, chromium] = await Promise.all([startTestbed(log), ensureChromium(log)]);
  } catch (error) {
    log(error instanceof MissingPrerequisite ? `missing prerequisite: ${error.message}` : String(error));
    process.exit(1);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(
    `kube-apiserver ${testbed.kubernetes.version}, moto, git and Gitea ${testbed.gitea.version} ready in ${seconds}s`,
  );
  let code = 1;
  try {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...testbedEnvironment(testbed), TESTBED_CHROMIUM: chromium },
      stdio: 'inherit',
    });
    [code] = (await once(child, 'exit')) as [number];
  } finally {
    await testbed.stop();
  }
  process.exit(code ?? 1);
}
