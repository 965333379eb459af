// `ferry deploy`: a manual job. A full commit SHA (or `--rollback`) pins the part at that commit; a branch or tag
// is deployed as an explicit deploy of the ref, which releases any pin and follows the ref again.
import { COMMIT_ID } from '../../functions/core/model/commit.ts';
import { trackedHead } from '../../functions/core/source/tracked-ref.ts';
import { CliError, parse, printHelp, UsageError, usage } from '../cli.ts';
import {
  type ManualPart,
  manualJob,
  openPart,
  PART_OPTIONS,
  PART_OPTIONS_HELP,
  remoteRefs,
  submit,
} from '../manual-job.ts';

export const help = usage(
  'ferry deploy <app> <environment> <commit|branch|tag> [options]',
  `Deploys an environment now. The job is queued in the state directory; a running \`ferry serve\` deploys it,
otherwise this command deploys it at once and prints the result (exit code 1 when it fails).

A full commit SHA pins the part at that commit (a rollback, or any fixed version): the part stays there, with
auto-sync paused, until \`ferry resume\` or an explicit deploy of a ref. A branch, a tag or a refs/... name is
such an explicit deploy: it releases any pin, deploys the ref's head and follows the ref from then on.`,
  [
    ['--rollback', 'Pin a branch or tag at its commit now (a commit SHA always pins)'],
    ['--ref <ref>', 'Ref a pinned SHA is recorded with, which `resume` follows (default: the applied one)'],
    ['--override-deletion-budget', "Prune even more objects than the environment's deletion budget allows"],
    ...PART_OPTIONS_HELP,
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'deploy',
    args,
    {
      ...PART_OPTIONS,
      rollback: { type: 'boolean', default: false },
      ref: { type: 'string' },
      'override-deletion-budget': { type: 'boolean', default: false },
    },
    true,
  );
  if (values.help) return printHelp(help);
  const [app, environment, target, ...extra] = positionals;
  if (app === undefined || environment === undefined || target === undefined || extra.length > 0) {
    throw new UsageError('expected <app> <environment> <commit|branch|tag>', 'deploy');
  }
  const pin = values.rollback || COMMIT_ID.test(target);
  if (values.ref !== undefined && !COMMIT_ID.test(target)) {
    throw new UsageError('--ref goes with a commit SHA: a branch or tag is its own ref', 'deploy');
  }
  const part = await openPart('deploy', app, environment, values);
  try {
    const resolved = COMMIT_ID.test(target)
      ? { commit: target, ref: values.ref ?? (await pinRef(part)) }
      : await resolveRef(part, target);
    const options = { pin, overrideDeletionBudget: values['override-deletion-budget'] };
    return await submit(part, manualJob(part.key, resolved, options));
  } finally {
    part.state.close();
  }
}

/** A branch, a tag or a full ref name, and the commit it points to now. */
async function resolveRef(part: ManualPart, name: string): Promise<{ ref: string; commit: string }> {
  const refs = await remoteRefs(part);
  const candidates = name.startsWith('refs/') ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`];
  const ref = candidates.find((candidate) => refs.has(candidate));
  const commit = ref === undefined ? undefined : refs.get(ref);
  if (ref === undefined || commit === undefined) {
    throw new CliError(
      `"${name}" is neither a full 40-character commit SHA nor a branch or tag of repository ${part.found.app.repository}`,
    );
  }
  return { ref, commit };
}

/** The ref a pinned commit is recorded with: the one the part has applied, else the ref it tracks. */
async function pinRef(part: ManualPart): Promise<string> {
  const applied = (await part.state.store.get(part.key))?.lastApplied?.ref;
  if (applied !== undefined) return applied;
  const tracked = trackedHead(part.found.environment.trigger, await remoteRefs(part));
  if (tracked === undefined)
    throw new CliError('the environment tracks no ref to record the pin with: pass --ref <ref>');
  return tracked.ref;
}
