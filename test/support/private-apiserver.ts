// A kube-apiserver of a test's own, on the test bed's etcd, that the test may pause, kill and restart: for fault
// tests that must not touch the apiserver every other test shares.
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { prepareApiserver, runApiserver } from '../testbed/kubernetes.ts';
import { freePort, type ServerProcess } from '../testbed/process.ts';

export interface PrivateApiserver {
  readonly server: string;
  /** The CA of its self-signed serving certificate; the same after a restart. */
  readonly caFile: string;
  /** A bearer token of a user in system:masters, valid only on this apiserver. */
  readonly token: string;
  /** The etcd key prefix its objects live under, apart from the shared apiserver's and every other one's. */
  readonly etcdPrefix: string;
  /** SIGSTOP: it stops answering; open connections stay open and new ones are accepted, then left waiting. */
  pause(): void;
  /** SIGCONT: it answers again, requests sent while paused included. */
  resume(): void;
  /** SIGKILL: open connections are cut and new ones refused, until `restart()`. */
  kill(): Promise<void>;
  /** Stops it if it runs (resuming it first if paused), starts it on the same port, and waits until ready. */
  restart(): Promise<void>;
  /** Stops it (resuming it first if paused) and removes its files; its objects stay in etcd. */
  stop(): Promise<void>;
}

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the test bed`);
  }
  return value;
}

/**
 * Starts a kube-apiserver on a free loopback port, with its own etcd prefix, cert dir and admin token (and the
 * flags in `args`), and waits until /readyz answers. The caller must stop it even when a test fails, in an `after` hook:
 *
 *   const apiserver = await startPrivateApiserver();
 *   after(() => apiserver.stop());
 *
 * Should the test process exit without it, the apiserver is killed with it.
 */
export async function startPrivateApiserver(
  options: { readonly args?: readonly string[] } = {},
): Promise<PrivateApiserver> {
  // Under the test bed's work dir, so that even a file left behind goes with the test bed.
  const dir = await mkdtemp(join(setting('TESTBED_WORK_DIR'), 'private-apiserver-'));
  const etcdPrefix = `/${basename(dir)}`;
  const setup = await prepareApiserver({
    binary: setting('TESTBED_KUBE_APISERVER_BIN'),
    etcdUrl: setting('TESTBED_ETCD_URL'),
    dir,
    port: await freePort(),
    // Compaction is global to etcd: the shared apiserver does it already.
    extraArgs: [`--etcd-prefix=${etcdPrefix}`, '--etcd-compaction-interval=0', ...(options.args ?? [])],
  });
  let current: ServerProcess = await runApiserver(setup).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    server: setup.server,
    caFile: setup.caFile,
    token: setup.token,
    etcdPrefix,
    pause: () => current.pause(),
    resume: () => current.resume(),
    kill: () => current.kill(),
    async restart() {
      await current.stop();
      current = await runApiserver(setup);
    },
    async stop() {
      await current.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
