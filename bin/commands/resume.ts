// `ferry resume`: releases a pinned part. A manual job follows the ref the pin was recorded with (else the ref
// the environment tracks) and, once deployed, auto-sync takes over again.
import { short } from '../../functions/core/model/commit.ts';
import { partId } from '../../functions/core/model/part.ts';
import { trackedHead } from '../../functions/core/source/tracked-ref.ts';
import { CliError, out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { manualJob, openPart, PART_OPTIONS, PART_OPTIONS_HELP, remoteRefs, submit } from '../manual-job.ts';

export const help = usage(
  'ferry resume <app> <environment> [options]',
  `Releases the pin that \`ferry deploy <commit>\` set: the part is deployed at the head of the ref the pin was
recorded with (else of the ref the environment tracks) and follows it from then on. Like \`ferry deploy\`, the
job goes to a running \`ferry serve\`, or is deployed at once.`,
  PART_OPTIONS_HELP,
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('resume', args, PART_OPTIONS, true);
  if (values.help) return printHelp(help);
  const [app, environment, ...extra] = positionals;
  if (app === undefined || environment === undefined || extra.length > 0) {
    throw new UsageError('expected <app> <environment>', 'resume');
  }
  const part = await openPart('resume', app, environment, values);
  try {
    const pin = (await part.state.store.get(part.key))?.pin;
    const refs = await remoteRefs(part);
    const ref = pin?.ref ?? trackedHead(part.found.environment.trigger, refs)?.ref;
    if (ref === undefined)
      throw new CliError('the environment tracks no branch or tag to follow: `ferry deploy` one');
    const commit = refs.get(ref);
    if (commit === undefined) throw new CliError(`${ref} no longer exists: \`ferry deploy\` a branch or tag`);
    out(
      pin === undefined
        ? `${partId(part.key)} is not pinned; deploying the head of ${ref}.`
        : `Releasing the pin of ${partId(part.key)} at ${short(pin.commit)}, set by ${pin.by} at ${pin.at}; following ${ref} again.`,
    );
    const job = manualJob(part.key, { ref, commit }, { pin: false, overrideDeletionBudget: false });
    return await submit(part, job);
  } finally {
    part.state.close();
  }
}
