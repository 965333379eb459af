// `ferry ui`: the status page of an install on this machine. For an AWS stack it reads the stack's table and
// queues with the caller's own AWS credentials, so nothing is exposed publicly: the server listens on the
// loopback address only. It also serves a local state directory, whether or not a server runs on it.
import { CliError, err, integer, out, parse, printHelp, usage } from '../cli.ts';
import { openTarget, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

const DEFAULT_PORT = 8090;

const { secrets: _secrets, ...OPTIONS } = TARGET_OPTIONS;

export const help = usage(
  'ferry ui [options]',
  `Serves the read-only status page at http://127.0.0.1:${DEFAULT_PORT}/ until Ctrl-C: every app by environment (sync
status, applied and head commits, pins, last checks) and a page per part (its deployments with their objects
and actions, failure reasons, drift as a field diff with Secret values masked, the queue and dead letters),
refreshing itself. With --stack it reads an AWS install with your AWS credentials; otherwise a state
directory. It listens on 127.0.0.1 only, and changes nothing.`,
  [
    ['-p, --port <port>', `Port on 127.0.0.1 (default: ${DEFAULT_PORT}; 0 picks a free one)`],
    ...TARGET_HELP.filter(([flags]) => !flags.startsWith('--secrets')),
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values } = parse('ui', args, { ...OPTIONS, port: { type: 'string', short: 'p' } });
  if (values.help) return printHelp(help);
  const port = integer(values.port, 'port', 'ui', { min: 0, max: 65535 }) ?? DEFAULT_PORT;
  const target = await openTarget('ui', values, { existing: true });
  try {
    if (target.kind === 'aws' && target.config === undefined) {
      throw new CliError(`${target.title} carries no configuration to list its parts: pass --config <file>`);
    }
    const { startPageServer } = await import('../../functions/adapters/ui/server.ts');
    const server = await startPageServer({
      source: { reader: target.operations, config: target.config },
      port,
      onError: (error) => err(`ferry ui: ${error instanceof Error ? error.message : String(error)}`),
    }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (pass --port <port>)`);
      throw error;
    });
    out(target.title);
    out(`Status page: ${server.url}/ (read-only, on this machine only; Ctrl-C stops it)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    return 0;
  } finally {
    target.close();
  }
}
