// `ferry suspend`: a part takes no pushes, checks or reconciles until `ferry resume`; manual deploys still run.
import { findPart, partId } from '../../functions/core/model/part.ts';
import { CliError, out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { requester } from '../manual-job.ts';
import { openTarget, partArgument, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry suspend <app>/<environment> [options]',
  `Suspends a part: jobs of pushes and of checks are recorded as skipped and deploy nothing, and checks look
at neither Git nor the cluster, until \`ferry resume\`. A manual \`ferry deploy\` or \`rollback\` still runs.
The suspension is recorded in the part's state, with who suspended it, when and why.`,
  [
    ['--part <app|config>', "The app's objects (default) or the environment's configuration"],
    ['--reason <text>', 'Why, shown by `ferry status`'],
    ...TARGET_HELP,
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'suspend',
    args,
    { ...TARGET_OPTIONS, part: { type: 'string' }, reason: { type: 'string' } },
    true,
  );
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('suspend', positionals, values.part);
  if (rest.length > 0) throw new UsageError('expected <app>/<environment>', 'suspend');
  const target = await openTarget('suspend', values);
  try {
    if (target.config !== undefined && findPart(target.config, key) === undefined) {
      throw new CliError(`no part ${partId(key)} in the configuration`);
    }
    const { state } = await target.operations.part(key);
    if (state?.suspended !== undefined) {
      out(`${partId(key)} is already suspended, by ${state.suspended.by} since ${state.suspended.at}.`);
      return 0;
    }
    const suspension = {
      by: requester(),
      at: new Date().toISOString(),
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    };
    await target.operations.suspend(key, suspension);
    out(
      `Suspended ${partId(key)}: pushes and checks deploy nothing until \`ferry resume ${key.app}/${key.environment}\`.`,
    );
    return 0;
  } finally {
    target.close();
  }
}
