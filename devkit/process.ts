// Processes for the development kit (the test bed and the demo): the servers they start, the commands they
// run, the ports they take and the prerequisites they cannot provide.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export { cacheDir } from '../functions/adapters/tools/layer-tools.ts';

/** A prerequisite the test bed cannot provide by itself; reported as one line, without a stack trace. */
export class MissingPrerequisite extends Error {
  override name = 'MissingPrerequisite';
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port available');
  return address.port;
}

export interface Service {
  readonly name: string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /**
   * Its own process group: a Ctrl-C in the terminal reaches only this Node process, which stops the server
   * when it is ready to (the demo stops Ferry before the cluster it deploys to).
   */
  readonly ownProcessGroup?: boolean;
}

/** The longest an ended process's last output is waited for, should something else hold its pipes open. */
const LOG_FLUSH_MS = 5_000;

/**
 * A long-running server process whose output goes to a log file (appended to, so a restart keeps the first
 * run's lines), read back when it fails to start. It is killed if the Node process exits while it runs.
 */
export class ServerProcess implements Service {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #logFile: string;
  /** Settles once the process's output is all in the log file: both pipes closed and the file written. */
  readonly #logged: Promise<void>;
  #exited = false;
  #paused = false;

  constructor(
    name: string,
    command: string,
    args: readonly string[],
    logDir: string,
    env: NodeJS.ProcessEnv = process.env,
    options: ServerProcessOptions = {},
  ) {
    this.name = name;
    this.#logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(this.#logFile, { flags: 'a' });
    this.#child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.ownProcessGroup ?? false,
    });
    // Ended by neither pipe: the first to end would close the file on the other's last lines.
    this.#child.stdout?.pipe(log, { end: false });
    this.#child.stderr?.pipe(log, { end: false });
    this.#logged = new Promise((resolve) => {
      const finish = () => log.end(resolve);
      this.#child.once('close', finish);
      this.#child.once('error', finish);
    });
    const killOnExit = () => this.#child.kill('SIGKILL');
    process.on('exit', killOnExit);
    const exited = () => {
      this.#exited = true;
      this.#paused = false;
      process.off('exit', killOnExit);
    };
    this.#child.on('exit', exited);
    this.#child.on('error', exited);
  }

  /** Polls `probe` until it answers true; fails with the log's tail if the process exits or time runs out. */
  async waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#exited) {
        await this.#flushed();
        throw new Error(`${this.name} exited during start-up:\n${this.logTail()}`);
      }
      if (await probe().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not become ready in ${timeoutMs / 1000}s:\n${this.logTail()}`);
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.#exited ? undefined : this.#child.pid;
  }

  logTail(lines = 20): string {
    return readFileSync(this.#logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** SIGSTOP: the process stops answering, but the kernel keeps its sockets open and accepts connections. */
  pause(): void {
    if (this.#exited) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    if (!this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /** SIGKILL, without a chance to shut down: open connections are cut, new ones refused. */
  async kill(): Promise<void> {
    await this.#end('SIGKILL');
  }

  async stop(): Promise<void> {
    // A stopped process would leave SIGTERM pending until it is continued.
    this.resume();
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.#end('SIGTERM');
    clearTimeout(killer);
  }

  /** The log complete, or the bound passed; the bound's timer does not keep Node running. */
  #flushed(): Promise<void> {
    return Promise.race([this.#logged, sleep(LOG_FLUSH_MS, undefined, { ref: false })]);
  }

  /** Signals the process and resolves once it has exited and its last output is in the log. */
  async #end(signal: NodeJS.Signals): Promise<void> {
    if (!this.#exited) {
      const exited = once(this.#child, 'exit');
      this.#child.kill(signal);
      await exited;
    }
    // A child of its own that kept the pipes open would hold them past the exit: wait a bounded time.
    await this.#flushed();
  }
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Told each line of standard output as it comes (the output is still returned). */
  readonly onLine?: (line: string) => void;
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const { onLine } = options;
  if (onLine !== undefined) createInterface({ input: child.stdout }).on('line', onLine);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${output.trimEnd()}`);
  return output;
}

/** True when `command` can be found on the PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}
