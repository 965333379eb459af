// `ferry deploy`: a manual job. A commit (a full or short SHA, or a deployment's id) pins the part at that commit;
// a branch or tag is an explicit deploy of the ref, which releases any pin and follows the ref again.
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
  timeoutMs,
} from '../manual-job.ts';
import { type Resolved, resolveRevision } from '../revision.ts';
import { openTarget, partArgument } from '../target.ts';

export const help = usage(
  'ferry deploy <app>/<environment> <commit|deployment|branch|tag> [options]',
  `Deploys an environment now. The job goes to the install's worker (a running \`ferry serve\`, or the stack's
worker function) and the command waits for its deployment; with no server on a state directory, it deploys
the job itself. It prints the result; exit code 1 when the deployment fails.

A commit (a full SHA, a unique prefix of one, or a deployment's id from \`ferry history\`) pins the part at
that commit (a rollback, or any fixed version): the part stays there, with auto-sync paused, until \`ferry
resume\` or an explicit deploy of a ref. A branch, a tag or a refs/... name is such an explicit deploy: it
releases any pin, deploys the ref's head and follows the ref from then on.`,
  [
    ['--rollback', 'Pin a branch or tag at its commit now (a commit always pins)'],
    [
      '--ref <ref>',
      'Ref a pinned commit is recorded with, which `resume` follows (default: the applied one)',
    ],
    ['--override-deletion-budget', "Prune even more objects than the environment's deletion budget allows"],
    ...PART_OPTIONS_HELP,
  ],
);

export const DEPLOY_OPTIONS = {
  ...PART_OPTIONS,
  rollback: { type: 'boolean', default: false },
  ref: { type: 'string' },
  'override-deletion-budget': { type: 'boolean', default: false },
} as const;

export async function run(args: readonly string[]): Promise<number> {
  return deployCommand('deploy', help, args, false);
}

/** `deploy`, and `rollback`, which always pins. */
export async function deployCommand(
  command: string,
  helpText: string,
  args: readonly string[],
  alwaysPin: boolean,
): Promise<number> {
  const { values, positionals } = parse(command, args, DEPLOY_OPTIONS, true);
  if (values.help) return printHelp(helpText);
  const { key, rest } = partArgument(command, positionals, values.part);
  const [text, ...extra] = rest;
  if (text === undefined || extra.length > 0) {
    throw new UsageError('expected <app>/<environment> and one commit, deployment, branch or tag', command);
  }
  const wait = { wait: values.wait, timeoutMs: timeoutMs(values.timeout, command) };
  const target = await openTarget(command, values);
  try {
    const part = openPart(target, key);
    const resolved = await resolve(part, text);
    if (values.ref !== undefined && resolved.kind === 'ref') {
      throw new UsageError('--ref goes with a commit: a branch or tag is its own ref', command);
    }
    const pin = alwaysPin || values.rollback || resolved.kind !== 'ref';
    const ref =
      resolved.kind === 'ref'
        ? resolved.ref
        : (values.ref ?? (resolved.kind === 'deployment' ? resolved.deployment.ref : await pinRef(part)));
    const options = { pin, overrideDeletionBudget: values['override-deletion-budget'] };
    return await submit(part, manualJob(key, { commit: resolved.commit, ref }, options), wait);
  } finally {
    target.close();
  }
}

/** What the text names, from the repository's refs and the part's history (no refs needed for a full SHA). */
async function resolve(part: ManualPart, text: string): Promise<Resolved> {
  const history = await part.target.operations.history(part.key, 100);
  const refs = COMMIT_ID.test(text) ? new Map<string, string>() : await remoteRefs(part);
  return resolveRevision(text, { refs, history, repository: part.found.app.repository });
}

/** The ref a pinned commit is recorded with: the one the part has applied, else the ref it tracks. */
async function pinRef(part: ManualPart): Promise<string> {
  const applied = (await part.target.operations.part(part.key)).state?.lastApplied?.ref;
  if (applied !== undefined) return applied;
  const tracked = trackedHead(part.found.environment.trigger, await remoteRefs(part));
  if (tracked === undefined) {
    throw new CliError('the environment tracks no ref to record the pin with: pass --ref <ref>');
  }
  return tracked.ref;
}
