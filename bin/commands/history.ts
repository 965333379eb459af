// `ferry history`: a part's deployments, newest first, with short ids to name them by (`ferry rollback`).
import { integer, out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { formatHistory } from '../present.ts';
import { openTarget, partArgument, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry history <app>/<environment> [options]',
  `Lists a part's deployments, newest first: each one's short id (which \`ferry rollback\` and \`ferry deploy\`
take, as they take a short SHA), start, result, commit, ref, trigger and duration, its whole message, and
what it did to each object (those it left unchanged are counted).`,
  [
    ['--part <app|config>', "The app's objects (default) or the environment's configuration"],
    ['--limit <n>', 'How many deployments (default 10)'],
    ['--json', 'Print the deployment records as JSON'],
    ...TARGET_HELP,
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'history',
    args,
    {
      ...TARGET_OPTIONS,
      part: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('history', positionals, values.part);
  if (rest.length > 0) throw new UsageError('expected <app>/<environment>', 'history');
  const limit = integer(values.limit, 'limit', 'history', { min: 1, max: 1000 }) ?? 10;
  const target = await openTarget('history', values, { existing: true });
  try {
    const records = await target.operations.history(key, limit);
    out(values.json ? JSON.stringify(records, null, 2) : formatHistory(records));
    return 0;
  } finally {
    target.close();
  }
}
