// Ferry's demo, with nothing to configure: the development kit's kube-apiserver and etcd (built once, from the Go
// module proxy), its Git server holding the example app, with a stand-in for the deployment controller, and
// pushes told to the local mode as signed webhooks. Everything lives in one directory and is kept between
// starts: the cluster's data, the repositories, the working copy and Ferry's state.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { startGit } from '../devkit/git-server.ts';
import { ensureKubernetesBinaries, type KubernetesEndpoint, startKubernetes } from '../devkit/kubernetes.ts';
import type { Service } from '../devkit/process.ts';
import { simulateRollouts } from '../devkit/rollouts.ts';
import { KubernetesApi } from '../functions/adapters/kubernetes/api-client.ts';
import { processAlive } from '../functions/adapters/local/database.ts';
import type { Logger } from '../functions/adapters/local/logger.ts';
import { parseYaml } from '../functions/core/yaml.ts';
import { WEBHOOK_SECRET, writeDemoConfig } from './config.ts';
import { PushWebhooks } from './push-webhooks.ts';
import { type ExampleRepository, prepareExample } from './repository.ts';

export interface DemoOptions {
  /** Holds everything the demo keeps between starts. */
  readonly dir: string;
  readonly logger: Logger;
  /** Aborted (Ctrl-C) while the demo starts: it stops what it started and throws `DemoStopped`. */
  readonly signal: AbortSignal;
}

/** A running demo: what `ferry serve` is to be started with, and what a person is told. */
export interface Demo {
  readonly dir: string;
  readonly configFile: string;
  readonly secretsFile: string;
  readonly stateDir: string;
  readonly example: ExampleRepository;
  readonly cluster: { readonly version: string; readonly server: string; readonly kubeconfig: string };
  /** Pushes are delivered to the local mode at this URL from now on (undefined: no more deliveries). */
  deliverPushesTo(url: string | undefined): void;
  /** Stops the Git server, the stand-in and the cluster; the directory keeps their data. */
  stop(): Promise<void>;
}

/** Ctrl-C while the demo was starting: what had started is stopped. */
export class DemoStopped extends Error {
  override name = 'DemoStopped';
}

/** Another demo runs on the directory. */
export class DemoBusy extends Error {
  override name = 'DemoBusy';
}

/** Builds what needs building, starts the cluster and the Git server, and seeds the example on a first start. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const dir = resolve(options.dir);
  const { logger, signal } = options;
  await mkdir(dir, { recursive: true });
  const services: Service[] = [claimDirectory(dir)];
  const stop = async () => {
    for (const service of services.splice(0).reverse()) {
      await service
        .stop()
        .catch((error: unknown) => logger.warn(`demo: ${service.name} did not stop`, { error }));
    }
  };
  try {
    const webhookSecret = await demoSecret(join(dir, 'secrets.yaml'));
    const webhooks = new PushWebhooks({ secret: webhookSecret, logger });
    // The Git server first: it is quick, and it finds a missing git before a long build.
    const git = track(services, await startGit(dir, { anonymous: true, onPush: webhooks.onPush }));
    const binaries = await untilAborted(
      ensureKubernetesBinaries((line) => logger.info(line)),
      signal,
    );
    logger.info(`demo: starting etcd and kube-apiserver ${binaries.version}`);
    const kubernetes = track(services, await startKubernetes(binaries, dir, { ownProcessGroup: true }));
    signal.throwIfAborted();
    const cluster = await startCluster(dir, kubernetes, services);
    const example = await prepareExample(join(dir, 'hello'), git);
    const configFile = join(dir, 'ferry.config.yaml');
    await writeDemoConfig(configFile, { repositoryUrl: example.url, kubeconfig: cluster.kubeconfig });
    signal.throwIfAborted();
    logger.info('demo: cluster and Git server ready', {
      apiserver: cluster.server,
      repository: example.url,
      workingCopy: example.dir,
    });
    return {
      dir,
      configFile,
      secretsFile: join(dir, 'secrets.yaml'),
      stateDir: join(dir, 'state'),
      example,
      cluster,
      deliverPushesTo: (url) => webhooks.deliverTo(url),
      stop,
    };
  } catch (error) {
    await stop();
    throw signal.aborted ? new DemoStopped('stopped while starting') : error;
  }
}

const track = <T extends Service>(services: Service[], service: T): T => {
  services.push(service);
  return service;
};

/** The cluster's kubeconfig file, and the stand-in for the controllers that roll Deployments out. */
async function startCluster(dir: string, kubernetes: KubernetesEndpoint, services: Service[]) {
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeFile(
    kubeconfig,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'demo', cluster: { server: kubernetes.server, 'certificate-authority': kubernetes.caFile } },
      ],
      users: [{ name: 'admin', user: { token: kubernetes.token } }],
      contexts: [{ name: 'demo', context: { cluster: 'demo', user: 'admin' } }],
      'current-context': 'demo',
    }),
    { mode: 0o600 },
  );
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const api = new KubernetesApi(config);
  const rollouts = simulateRollouts(api, undefined, { intervalMs: 250 });
  services.push({
    name: 'roll-out stand-in',
    async stop() {
      await rollouts.stop();
      api.close();
    },
  });
  return { version: kubernetes.version, server: kubernetes.server, kubeconfig };
}

/** The webhook secret: made on the first start, kept in the secrets file that `ferry serve` reads. */
async function demoSecret(file: string): Promise<string> {
  const kept = await readFile(file, 'utf8').then(
    (text) => (parseYaml(text) as Record<string, unknown> | null)?.[WEBHOOK_SECRET],
    () => undefined,
  );
  if (typeof kept === 'string' && kept !== '') return kept;
  const made = randomBytes(32).toString('hex');
  await writeFile(file, dump({ [WEBHOOK_SECRET]: made }), { mode: 0o600 });
  return made;
}

/** `demo.pid` in the directory: one demo at a time on it; one left by a demo that did not stop is taken over. */
function claimDirectory(dir: string): Service {
  const file = join(dir, 'demo.pid');
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new DemoBusy(
        `another demo (pid ${pid}) runs in ${dir}: stop it, or pass --dir <another directory>`,
      );
    }
    writeFileSync(file, `${process.pid}\n`);
  }
  return { name: 'claim', stop: async () => rmSync(file, { force: true }) };
}

/** The promise, or a rejection as soon as the signal is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolvePromise, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
