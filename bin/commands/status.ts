// `ferry status`: what the state directory holds, whether or not a server runs on it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { databasePath } from '../../functions/adapters/local/database.ts';
import { runningServer } from '../../functions/adapters/local/server-file.ts';
import { formatStatus, readStatus } from '../../functions/adapters/local/status.ts';
import type { Config } from '../../functions/core/config.ts';
import { errorMessage } from '../../functions/core/errors.ts';
import {
  CliError,
  defaultConfigPath,
  defaultStateDir,
  err,
  out,
  parse,
  printHelp,
  STATE_DIR_HELP,
  usage,
} from '../cli.ts';
import { readConfig } from '../inputs.ts';

export const help = usage(
  'ferry status [options]',
  `Prints every environment part's last applied commit, sync status, pin, last check and last deployments, and
the deploy queue with its dead letters, from the state directory (a server may be running or not). A pinned
part shows the commit it is held at, by whom, since when, and the head its last check found.`,
  [
    STATE_DIR_HELP,
    [
      '-c, --config <file>',
      'Also list the configured parts never deployed (default: ferry.config.yaml if present)',
    ],
    ['--json', 'Print the status as JSON (as GET /status answers)'],
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values } = parse('status', args, {
    'state-dir': { type: 'string' },
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) return printHelp(help);
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir());
  if (!existsSync(databasePath(stateDir))) {
    throw new CliError(
      `no Ferry state in ${stateDir}: start \`ferry serve\` there, or pass --state-dir <dir>`,
    );
  }
  const report = await readStatus(stateDir, await configOf(values.config));
  if (values.json) {
    out(JSON.stringify(report, null, 2));
    return 0;
  }
  const server = runningServer(stateDir);
  out(
    server === undefined
      ? `State: ${stateDir} (no server running)`
      : `State: ${stateDir} (server pid ${server.pid} at ${server.url})`,
  );
  out('');
  out(formatStatus(report));
  return 0;
}

/** The configuration given, else the default one if it is there and loads. */
async function configOf(path: string | undefined): Promise<Config | undefined> {
  if (path !== undefined) return readConfig(path);
  if (!existsSync(defaultConfigPath())) return undefined;
  // The status is in the state directory: a configuration that does not load only hides the unused parts.
  return readConfig(defaultConfigPath()).catch((error: unknown) => {
    err(`warning: ${errorMessage(error).split('\n')[0]}; listing only what the state directory holds`);
    return undefined;
  });
}
