// The local mode's state directory as a target: its SQLite store and queue, the server running on it (if one
// is), the configuration given or found, and secrets from the environment and the secrets file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { databasePath, openDatabase } from '../functions/adapters/local/database.ts';
import { runningServer } from '../functions/adapters/local/server-file.ts';
import { SqliteJobQueue } from '../functions/adapters/local/sqlite-job-queue.ts';
import { SqliteStore } from '../functions/adapters/local/sqlite-store.ts';
import { LocalOperations } from '../functions/adapters/local/status.ts';
import type { GitSource } from '../functions/core/ports.ts';
import { CliError } from './cli.ts';
import { localConfig, type Target, type TargetValues } from './install.ts';

export async function openLocalTarget(
  dir: string,
  values: TargetValues,
  options: { readonly existing?: boolean },
): Promise<Target> {
  if (options.existing === true && !existsSync(databasePath(dir))) {
    throw new CliError(`no Ferry state in ${dir}: start \`ferry serve\` there, or pass --state-dir <dir>`);
  }
  const config = await localConfig(values.config, dir);
  const db = openDatabase(dir);
  const server = runningServer(dir);
  let git: GitSource | undefined;
  return {
    kind: 'local',
    title:
      server === undefined
        ? `State: ${dir} (no server running)`
        : `State: ${dir} (server pid ${server.pid} at ${server.url})`,
    operations: new LocalOperations(new SqliteStore(db), new SqliteJobQueue(db)),
    config,
    worker: server === undefined ? undefined : `the server (pid ${server.pid}, ${server.url})`,
    stateDir: dir,
    secrets: async () => (await import('./inputs.ts')).openSecrets(values.secrets),
    git: async () => {
      const { IsomorphicGitSource } = await import('../functions/adapters/git/isomorphic-git-source.ts');
      git ??= new IsomorphicGitSource(join(dir, 'git'));
      return git;
    },
    close: () => db.close(),
  };
}
