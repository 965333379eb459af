// `ferry status`: every part of an install (a state directory, or an AWS stack) as a table, each part's last
// result, check and holds with their messages whole, then the deploy queue and its dead letters.
import { CliError, out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { formatStatus } from '../present.ts';
import { openTarget, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry status [<app>[/<environment>]] [options]',
  `Shows every environment part (or one app's, or one environment's): its sync status, applied and head commits,
pin, suspension and last check, with its last deployment's result and whole message, then the deploy queue
and its dead letters. Reads a state directory (a server may be running or not) or, with --stack, an AWS
install, with the same output.`,
  [['--json', 'Print the status as JSON (as GET /status answers)'], ...TARGET_HELP],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'status',
    args,
    { ...TARGET_OPTIONS, json: { type: 'boolean', default: false } },
    true,
  );
  if (values.help) return printHelp(help);
  if (positionals.length > 1) throw new UsageError('expected at most one <app>[/<environment>]', 'status');
  const [app, environment, ...extra] = positionals[0]?.split('/') ?? [];
  if (app === '' || environment === '' || extra.length > 0) {
    throw new UsageError(`"${positionals[0]}" is not <app>[/<environment>]`, 'status');
  }
  const target = await openTarget('status', values, { existing: true });
  try {
    if (target.kind === 'aws' && target.config === undefined) {
      throw new CliError(`${target.title} carries no configuration to list its parts: pass --config <file>`);
    }
    const { collectStatus } = await import('../../functions/core/operate/status.ts');
    const filter = {
      ...(app === undefined ? {} : { app }),
      ...(environment === undefined ? {} : { environment }),
    };
    const report = await collectStatus(target.operations, target.config, { filter });
    if (values.json) {
      out(JSON.stringify(report, null, 2));
      return 0;
    }
    out(target.title);
    out('');
    out(formatStatus(report));
    return 0;
  } finally {
    target.close();
  }
}
