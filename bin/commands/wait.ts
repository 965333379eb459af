// `ferry wait`: blocks until a part is Synced (at a given commit, when one is named), for scripts and CI: exit 0
// once it is, 1 when the time runs out or a deployment fails meanwhile.
import { COMMIT_ID, short } from '../../functions/core/model/commit.ts';
import { type PartKey, partId } from '../../functions/core/model/part.ts';
import type { PartSnapshot } from '../../functions/core/model/status.ts';
import { out, parse, printHelp, UsageError, usage } from '../cli.ts';
import { openPart, remoteRefs, timeoutMs } from '../manual-job.ts';
import { duration, when } from '../present.ts';
import { progress } from '../progress.ts';
import { resolveRevision } from '../revision.ts';
import { openTarget, partArgument, TARGET_HELP, TARGET_OPTIONS, type Target } from '../target.ts';

export const help = usage(
  'ferry wait <app>/<environment> [--synced] [options]',
  `Waits until the part is Synced: its last deployment succeeded (or a check found it in sync), no deployment
holds it and, in a state directory, none of its jobs is queued. With --commit, until it runs that commit. Exit
code 0 once it is, 1 when the timeout passes or a deployment fails while waiting.`,
  [
    ['--synced', 'Wait for the Synced status (the default, and only, condition)'],
    ['--commit <commit>', 'Until this commit (a SHA or unique prefix, a deployment, a branch or tag) runs'],
    ['--timeout <duration>', 'How long to wait: 90s, 10m, 1h (default: 5m)'],
    ['--part <app|config>', "The app's objects (default) or the environment's configuration"],
    ...TARGET_HELP,
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'wait',
    args,
    {
      ...TARGET_OPTIONS,
      part: { type: 'string' },
      synced: { type: 'boolean', default: true },
      commit: { type: 'string' },
      timeout: { type: 'string', default: '5m' },
    },
    true,
  );
  if (values.help) return printHelp(help);
  const { key, rest } = partArgument('wait', positionals, values.part);
  if (rest.length > 0) throw new UsageError('expected <app>/<environment>', 'wait');
  if (!values.synced) throw new UsageError('--synced is the only condition to wait for', 'wait');
  const timeout = timeoutMs(values.timeout, 'wait');
  const target = await openTarget('wait', values, { existing: true });
  try {
    const commit = values.commit === undefined ? undefined : await wanted(target, key, values.commit);
    return await waitForSynced(target, key, commit, timeout);
  } finally {
    target.close();
  }
}

/** The commit the text names. */
async function wanted(target: Target, key: PartKey, text: string): Promise<string> {
  const part = openPart(target, key);
  const history = await target.operations.history(key, 100);
  const refs = COMMIT_ID.test(text) ? new Map<string, string>() : await remoteRefs(part);
  return resolveRevision(text, { refs, history, repository: part.found.app.repository }).commit;
}

/** What keeps the part from counting as Synced now, or undefined when nothing does. */
async function notYet(
  target: Target,
  snapshot: PartSnapshot,
  group: string,
  commit: string | undefined,
): Promise<string | undefined> {
  const { state, lock } = snapshot;
  const status = state?.sync.status ?? 'Unknown';
  if (status !== 'Synced')
    return `${status}${state?.sync.message ? `: ${state.sync.message.split('\n')[0]}` : ''}`;
  if (lock !== undefined) return `deploying (${lock.owner})`;
  const applied = state?.lastApplied?.commit;
  if (commit !== undefined && applied !== commit)
    return `Synced at ${applied === undefined ? 'nothing' : short(applied)}, not ${short(commit)} yet`;
  const queue = await target.operations.queue();
  if (queue.jobs.some((job) => job.group === group)) return 'Synced, with a job of the part still queued';
  return undefined;
}

async function waitForSynced(
  target: Target,
  key: PartKey,
  commit: string | undefined,
  timeout: number,
): Promise<number> {
  const started = Date.now();
  const since = new Date(started).toISOString();
  const goal = `${partId(key)} Synced${commit === undefined ? '' : ` at ${short(commit)}`}`;
  const shown = await progress(`Waiting for ${goal}...`);
  const interval = target.kind === 'aws' ? 2000 : 500;
  for (;;) {
    const snapshot = await target.operations.part(key);
    const sync = snapshot.state?.sync;
    if (sync?.status === 'Failed' && sync.failure !== 'transient' && sync.at > since) {
      shown.done(`${partId(key)} failed at ${when(sync.at)}`, false);
      out(sync.message);
      return 1;
    }
    const reason = await notYet(target, snapshot, partId(key), commit);
    if (reason === undefined) {
      shown.done(`${goal} (after ${duration(Date.now() - started)})`, true);
      return 0;
    }
    if (Date.now() - started >= timeout) {
      shown.done(`${goal}: not within ${duration(timeout)}; it is ${reason}`, false);
      return 1;
    }
    shown.update(`Waiting for ${goal}: ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
