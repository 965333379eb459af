// `ferry diff`: the live cluster against a revision of a part, as drift detection compares them: the revision
// fetched and rendered by the core's source, prepared as the engine prepares it, each live object dry-run and
// compared by the engine's differ (server-managed fields and ignoreDifferences left out, Secret values
// masked). Exit code 0 when they match, 1 when they differ, 2 on an error, as `kubectl diff` answers.
import { short } from '../../functions/core/model/commit.ts';
import { partId } from '../../functions/core/model/part.ts';
import type { DriftedObject } from '../../functions/core/model/records.ts';
import { trackedHead } from '../../functions/core/source/tracked-ref.ts';
import { CliError, out, paint, parse, printHelp, UsageError, usage } from '../cli.ts';
import { type ManualPart, openPart, remoteRefs } from '../manual-job.ts';
import { indented } from '../present.ts';
import { progress } from '../progress.ts';
import { resolveRevision } from '../revision.ts';
import { openTarget, partArgument, requireConfig, TARGET_HELP, TARGET_OPTIONS } from '../target.ts';

export const help = usage(
  'ferry diff <app>/<environment> [<commit|deployment|branch|tag>] [options]',
  `Compares the live objects of a part's cluster with what a revision renders to (default: what a deployment
would apply now: the pinned commit, else the head of the tracked ref), as drift detection does: each live
object is dry-run with the revision's version and compared, server-managed fields and ignoreDifferences left
out; Secret values are masked. Lists objects that would be created, changed (field by field) or pruned.
Exit code 0 when nothing differs, 1 when something does, 2 when the comparison failed.`,
  [['--part <app|config>', "The app's objects (default) or the environment's configuration"], ...TARGET_HELP],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse('diff', args, { ...TARGET_OPTIONS, part: { type: 'string' } }, true);
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('diff', positionals, values.part);
  if (rest.length > 1) throw new UsageError('expected <app>/<environment> and at most one revision', 'diff');
  try {
    const target = await openTarget('diff', values);
    try {
      return await diffPart(openPart(target, key), rest[0]);
    } finally {
      target.close();
    }
  } catch (error) {
    // As kubectl diff: 1 says "they differ", so a failure is 2.
    if (error instanceof CliError) throw new CliError(error.message, { exitCode: 2, cause: error });
    if (error instanceof UsageError) throw error;
    throw new CliError(error instanceof Error ? error.message : String(error), { exitCode: 2, cause: error });
  }
}

/** The commit to compare with: the one named, else the pin, else the tracked head, else the applied one. */
async function revisionOf(
  part: ManualPart,
  text: string | undefined,
): Promise<{ commit: string; ref?: string }> {
  const { state } = await part.target.operations.part(part.key);
  const refs = await remoteRefs(part);
  if (text !== undefined) {
    const history = await part.target.operations.history(part.key, 100);
    const resolved = resolveRevision(text, { refs, history, repository: part.found.app.repository });
    return resolved.kind === 'ref'
      ? { commit: resolved.commit, ref: resolved.ref }
      : { commit: resolved.commit };
  }
  const chosen = state?.pin ?? trackedHead(part.found.environment.trigger, refs) ?? state?.lastApplied;
  if (chosen === undefined) {
    throw new CliError(
      `${partId(part.key)} tracks no ref and has applied nothing: name a revision to compare with`,
    );
  }
  return chosen;
}

/** What differs between the cluster and the revision, printed; the exit code. */
async function diffPart(part: ManualPart, text: string | undefined): Promise<number> {
  const { compare } = await import('../compare.ts');
  const revision = await revisionOf(part, text);
  const shown = await progress(
    `Rendering ${short(revision.commit)} and comparing it with cluster ${part.found.environment.cluster}...`,
  );
  const config = requireConfig(part.target);
  let report: Awaited<ReturnType<typeof compare>>;
  try {
    report = await compare(part, config, revision.commit, (step) => shown.update(step));
  } catch (error) {
    shown.done('comparison failed', false);
    throw error;
  }
  shown.done(`compared ${report.compared} object(s)`, true);
  const { drifted, pruned } = report;
  const against = `${short(revision.commit)}${revision.ref === undefined ? '' : ` (${revision.ref})`}`;
  out(`${partId(part.key)}: cluster ${part.found.environment.cluster} against ${against}`);
  if (drifted.length === 0 && pruned.length === 0) {
    out(
      `No differences: the cluster runs what ${short(revision.commit)} renders (${report.compared} objects).`,
    );
    return 0;
  }
  for (const object of drifted) for (const line of objectLines(object)) out(line);
  for (const object of pruned) out(paint('red', `- ${object} (would be pruned)`));
  out(`${drifted.length + pruned.length} of ${report.compared + pruned.length} object(s) differ.`);
  return 1;
}

/** One object's lines: created, adopted or changed field by field (JSON pointers, live → revision). */
function objectLines(object: DriftedObject & { readonly adopt?: boolean }): string[] {
  if (object.reason === 'missing') {
    return [
      object.adopt === true
        ? paint('yellow', `~ ${object.object} (exists without Ferry's labels: would be adopted)`)
        : paint('green', `+ ${object.object} (would be created)`),
    ];
  }
  return [
    paint('yellow', `~ ${object.object}`),
    ...(object.changes ?? []).flatMap((change) => {
      const [first = '', ...more] = `${show(change.live)} → ${show(change.desired)}`.split('\n');
      return [`    ${change.path}: ${first}`, ...indented(more.join('\n'), '      ')];
    }),
  ];
}

const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
