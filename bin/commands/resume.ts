// `ferry resume`: a suspended or pinned part follows its ref again. The suspension is lifted, and a manual job
// follows the ref the pin was recorded with (else the ref the environment tracks): once deployed, auto-sync
// takes over again.
import { short } from '../../functions/core/model/commit.ts';
import { partId } from '../../functions/core/model/part.ts';
import { trackedHead } from '../../functions/core/source/tracked-ref.ts';
import { CliError, out, parse, printHelp, UsageError, usage } from '../cli.ts';
import {
  manualJob,
  openPart,
  PART_OPTIONS,
  PART_OPTIONS_HELP,
  remoteRefs,
  submit,
  timeoutMs,
} from '../manual-job.ts';
import { when } from '../present.ts';
import { openTarget, partArgument } from '../target.ts';

export const help = usage(
  'ferry resume <app>/<environment> [options]',
  `Lifts a suspension (\`ferry suspend\`) and releases the pin that \`ferry deploy <commit>\` or \`ferry rollback\`
set: the part is deployed at the head of the ref the pin was recorded with (else of the ref the environment
tracks) and follows it from then on. Like \`ferry deploy\`, the job goes to the install's worker, whose
deployment the command waits for, or is deployed at once.`,
  PART_OPTIONS_HELP,
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('resume', args, PART_OPTIONS, true);
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('resume', positionals, values.part);
  if (rest.length > 0) throw new UsageError('expected <app>/<environment>', 'resume');
  const wait = { wait: values.wait, timeoutMs: timeoutMs(values.timeout, 'resume') };
  const target = await openTarget('resume', values);
  try {
    const part = openPart(target, key);
    const { state } = await target.operations.part(key);
    const refs = await remoteRefs(part);
    const pin = state?.pin;
    const ref = pin?.ref ?? trackedHead(part.found.environment.trigger, refs)?.ref;
    if (ref === undefined)
      throw new CliError('the environment tracks no branch or tag to follow: `ferry deploy` one');
    const commit = refs.get(ref);
    if (commit === undefined) throw new CliError(`${ref} no longer exists: \`ferry deploy\` a branch or tag`);
    if (state?.suspended !== undefined) {
      await target.operations.suspend(key, null);
      out(
        `Lifted the suspension of ${partId(key)}, set by ${state.suspended.by} at ${when(state.suspended.at)}.`,
      );
    }
    out(
      pin === undefined
        ? `${partId(key)} is not pinned; deploying the head of ${ref}.`
        : `Releasing the pin of ${partId(key)} at ${short(pin.commit)}, set by ${pin.by} at ${pin.at}; following ${ref} again.`,
    );
    const job = manualJob(key, { ref, commit }, { pin: false, overrideDeletionBudget: false });
    return await submit(part, job, wait);
  } finally {
    target.close();
  }
}
