// `ferry redrive`: shows the deploy queue's dead letters, then puts them back on the queue, each in its part's
// order, to be tried again (once what failed them is fixed).
import { out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { deadLetterLines } from '../present.ts';
import { openTarget, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry redrive [<app>[/<environment>]] [options]',
  `Shows the jobs that failed every attempt (the dead letters of a state directory, or of the stack's
dead-letter queue), then puts them back on the deploy queue, where the worker tries them again. Only those of
one app or environment when one is named.`,
  [['--dry-run', 'Only show them'], ...TARGET_HELP],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'redrive',
    args,
    { ...TARGET_OPTIONS, 'dry-run': { type: 'boolean', default: false } },
    true,
  );
  if (values.help) return printHelp(help);
  if (positionals.length > 1) throw new UsageError('expected at most one <app>[/<environment>]', 'redrive');
  const prefix = positionals[0] === undefined ? '' : `${positionals[0].replace(/\/$/, '')}/`;
  const target = await openTarget('redrive', values, { existing: true });
  try {
    const all = await target.operations.deadLetters();
    const chosen = all.filter((dead) => dead.group.startsWith(prefix));
    if (chosen.length === 0) {
      out(`No dead letters${prefix === '' ? '' : ` of ${prefix.slice(0, -1)}`}.`);
      return 0;
    }
    out(`${chosen.length} dead letter(s):`);
    for (const line of deadLetterLines(chosen)) out(line);
    if (values['dry-run']) return 0;
    const moved = await target.operations.redrive(chosen.map((dead) => dead.id));
    out(
      `Put ${moved.length} back on the deploy queue${target.worker === undefined ? ' (no server runs: `ferry serve` deploys them)' : ''}.`,
    );
    return moved.length === chosen.length ? 0 : 1;
  } finally {
    target.close();
  }
}
