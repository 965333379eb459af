// The local mode in the test's own process: its state in a fresh directory, its runtime, and its HTTP server on a
// free loopback port, with commit statuses linking to that server. Tests start the worker when they need it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningHttpServer, startHttpServer } from '../../functions/adapters/local/http-server.ts';
import type { Logger } from '../../functions/adapters/local/logger.ts';
import type { Config } from '../../functions/core/config.ts';
import type { SecretSource } from '../../functions/core/ports.ts';
import { LocalRuntime, type LocalState, openLocalState } from '../../functions/runtime/local.ts';

export interface LocalServer {
  readonly stateDir: string;
  readonly state: LocalState;
  readonly runtime: LocalRuntime;
  readonly http: RunningHttpServer;
  /** Stops the server and the runtime and removes the state; stop the worker first. */
  close(): Promise<void>;
}

export async function startLocalServer(options: {
  readonly config: Config;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  /** Names the state directory. */
  readonly name: string;
}): Promise<LocalServer> {
  const { config, secrets, logger } = options;
  const stateDir = await mkdtemp(join(tmpdir(), `ferry-${options.name}-`));
  const state = openLocalState(stateDir);
  const runtime = await LocalRuntime.start(state, { config, secrets, logger });
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    webhook: runtime.intake(),
    status: () => ({}),
    health: () => ({ status: 'ok' }),
    maxBodyBytes: 2 * 1024 * 1024,
    logger,
  });
  runtime.linkStatusesTo(http.url);
  return {
    stateDir,
    state,
    runtime,
    http,
    async close() {
      await http.close();
      await runtime.close();
      state.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
