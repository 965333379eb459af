// The reconcile use case: one environment part compared with Git (has its tracked ref moved past the last
// applied commit?) and with its cluster (has a live object drifted from the last applied revision?), in named
// steps: observe, judge, act, record. Every check is recorded; a failing one (Git or cluster unreachable) is
// recorded as an error and tried again next tick, never thrown.
import { prepareObjects } from '../apply/prepare.ts';
import { dependencyWait, headFor } from '../deploy/gates.ts';
import { errorMessage } from '../errors.ts';
import type { FeedbackEvents } from '../feedback/feedback.ts';
import { checkIdOf, type EnvironmentCheck } from '../model/check.ts';
import { short } from '../model/commit.ts';
import { oneLine } from '../model/feedback.ts';
import { createJob } from '../model/job.ts';
import { type ConfiguredPart, clusterOf, findPart, keyOf, type PartKey } from '../model/part.ts';
import type {
  AppliedCommit,
  CheckChange,
  CheckRecord,
  DriftedObject,
  EnvironmentState,
  Pin,
  QueuedDeploy,
} from '../model/records.ts';
import type { CheckStore, ClusterConnector, JobQueue } from '../ports.ts';
import { RefsCache, remoteOf, renderRevision, type SourceDependencies } from '../source/revision.ts';
import type { Target } from '../source/tracked-ref.ts';
import { detectDrift } from './drift.ts';

export interface CheckDependencies extends SourceDependencies {
  readonly store: CheckStore;
  readonly clusters: ClusterConnector;
  readonly queue: JobQueue;
  /** Commit statuses and notifications; none, and nothing is told. */
  readonly feedback?: FeedbackEvents;
}

/** A deploy or heal enqueued this long ago counts as still queued: a later check says so and sends none. */
export const QUEUED_GRACE_MS = 10 * 60 * 1000;

/** What a check saw: the tracked head and the drifted objects of the last applied revision. */
interface Observation {
  readonly state: EnvironmentState | undefined;
  readonly head: Target | undefined;
  readonly drifted: readonly DriftedObject[];
  readonly dryRuns: number;
  /** A follower with nothing to promote yet: what it waits for. */
  readonly promotionWait?: string | undefined;
  /** A newer head whose dependencies are not ready: what it waits for. */
  readonly dependencyWait?: string | undefined;
}

/** What a check decided, before it is recorded. */
interface Verdict {
  readonly action: CheckRecord['action'];
  readonly message: string;
  readonly change: CheckChange;
  /** The deploy to enqueue. */
  readonly enqueue?: QueuedDeploy & { readonly ref: string };
}

/** A recorded check and, while it leaves its part OutOfSync (a pinned part aside), since when. */
export interface CheckResult extends CheckRecord {
  /** When the part went OutOfSync: the alarm's measure of how long it has been so. */
  readonly outOfSyncSince?: string;
}

export async function checkEnvironment(
  check: EnvironmentCheck,
  deps: CheckDependencies,
  refs: RefsCache = new RefsCache(),
): Promise<CheckResult> {
  const key = keyOf(check);
  const base = { id: checkIdOf(check), at: new Date().toISOString() };
  const found = findPart(deps.config, key);
  if (found === undefined) {
    const record = {
      ...base,
      drifted: [],
      action: 'error' as const,
      message: `no part ${check.part} of ${check.app}/${check.environment} in the configuration`,
    };
    await deps.store.recordCheck(key, record, {});
    return record;
  }
  let head: Target | undefined;
  try {
    // The one read of the part's state: what the check judges by, and whether it is suspended.
    const state = await deps.store.get(key);
    const suspended = state?.suspended;
    if (suspended !== undefined) {
      const message = `suspended by ${suspended.by} since ${suspended.at}; nothing checked until resumed`;
      const record = { ...base, drifted: [], action: 'suspended' as const, message };
      await deps.store.recordCheck(key, record, {});
      return record;
    }
    const seen = await observe(key, found, state, deps, refs);
    head = seen.head;
    const verdict = judge(seen, found, base);
    const record = {
      ...base,
      ...headOf(head),
      drifted: seen.drifted,
      action: verdict.action,
      message: verdict.message,
    };
    await deps.store.recordCheck(key, record, verdict.change);
    tell(deps.feedback, key, seen, verdict, record);
    const done = verdict.enqueue === undefined ? record : await enqueue(deps, key, verdict.enqueue, record);
    return withSince(done, verdict);
  } catch (error) {
    const record = {
      ...base,
      ...headOf(head),
      drifted: [],
      action: 'error' as const,
      message: `check failed, tried again next tick: ${errorMessage(error)}`,
    };
    await deps.store.recordCheck(key, record, { queued: null });
    return record;
  }
}

/** The record, with since when the check leaves the part OutOfSync; a pinned part is held there on purpose. */
function withSince(record: CheckRecord, verdict: Verdict): CheckResult {
  const sync = verdict.change.sync;
  if (sync?.status !== 'OutOfSync' || record.action === 'pinned' || record.action === 'error') return record;
  return { ...record, outOfSyncSince: sync.at };
}

const headOf = (head: Target | undefined) =>
  head === undefined ? {} : { headCommit: head.commit, headRef: head.ref };

/** Reads the tracked head and, when a revision was applied, the drift from it: every time, also while a newer head waits. */
async function observe(
  key: PartKey,
  found: ConfiguredPart,
  state: EnvironmentState | undefined,
  deps: CheckDependencies,
  refs: RefsCache,
): Promise<Observation> {
  const remote = await remoteOf(deps.config, deps.secrets, found.app);
  const now = Date.now();
  const { target: head, waiting } = await headFor(deps, found, key, refs, now);
  const last = state?.lastApplied;
  const behind = head !== undefined && head.commit !== last?.commit && state?.pin === undefined;
  const waits = {
    promotionWait: waiting,
    dependencyWait: behind ? await dependencyWait(deps, found, refs, now) : undefined,
  };
  if (state === undefined || last === undefined) return { state, head, drifted: [], dryRuns: 0, ...waits };
  const cluster = await deps.clusters.connect(clusterOf(deps.config, found.environment));
  const prepare = { cluster, owner: key, defaultNamespace: found.environment.namespace };
  // For revisions too large to keep with the deployment: fetch and render the last applied commit again.
  const rerender = async () =>
    prepareObjects(await renderRevision(deps, remote, found, last.commit), prepare);
  const report = await detectDrift({
    cluster,
    owner: key,
    inventory: state.inventory,
    ignore: found.environment.ignoreDifferences,
    desired: async () => (await deps.store.getDesired(key)) ?? (await rerender()),
  });
  if (report.moved) await deps.store.refreshInventory(key, last.deploymentId, report.settled);
  return { state, head, drifted: report.drifted, dryRuns: report.dryRuns, ...waits };
}

/** What judging a check needs: what it saw, the part's switches and the check's own id and time. */
interface Judging extends Observation {
  readonly autoSync: boolean;
  readonly selfHeal: boolean;
  readonly id: string;
  readonly at: string;
  /** The drifted objects in one line, or '' when none. */
  readonly driftText: string;
}

/** Decides what the check does: heal, deploy, report OutOfSync or pinned, or nothing. */
function judge(seen: Observation, found: ConfiguredPart, base: { id: string; at: string }): Verdict {
  const last = seen.state?.lastApplied;
  const drift = seen.drifted.map((d) => `${d.object} (${d.reason})`).join(', ');
  const driftText =
    seen.drifted.length === 0
      ? ''
      : `${seen.drifted.length} object(s) drifted from ${short(last?.commit ?? '')}: ${drift}`;
  const j: Judging = {
    ...seen,
    ...base,
    autoSync: found.settings.autoSync,
    selfHeal: found.settings.selfHeal,
    driftText,
  };
  const pin = seen.state?.pin;
  if (pin !== undefined) return judgePinned(j, pin);
  if (seen.head !== undefined && seen.head.commit !== last?.commit) return judgeNewHead(j, seen.head);
  if (last === undefined && seen.promotionWait !== undefined)
    return { action: 'waiting', message: seen.promotionWait, change: {} };
  if (last === undefined)
    return { action: 'none', message: 'nothing applied yet, no commit to follow', change: {} };
  return judgeApplied(j, last);
}

const joined = (...texts: string[]) => texts.filter((t) => t !== '').join('; ');
/** OutOfSync, since the check that first found it so: `at` says how long the part has been OutOfSync. */
const outOfSync = (j: Judging, message: string): CheckChange => ({
  sync: { status: 'OutOfSync', message, at: j.state?.sync.status === 'OutOfSync' ? j.state.sync.at : j.at },
});

/** A pinned part is never deployed over; with selfHeal its drift is healed to the pinned commit. */
function judgePinned(j: Judging, pin: Pin): Verdict {
  const where = j.head === undefined ? '' : `${j.head.ref} is at ${short(j.head.commit)}`;
  const text = joined(`pinned at ${short(pin.commit)} by ${pin.by}`, where, j.driftText);
  if (j.drifted.length > 0 && j.selfHeal && j.autoSync) {
    const heal = { commit: pin.commit, ref: pin.ref, reason: 'drift' as const };
    return queueOrSay(j, heal, 'heal', `${text}; heal to the pinned commit`, outOfSync(j, text));
  }
  const inSync = j.head?.commit === pin.commit && j.drifted.length === 0;
  return {
    action: 'pinned',
    message: `${text}; resume to follow the ref`,
    change: inSync ? {} : outOfSync(j, text),
  };
}

/** The tracked ref moved past the last applied commit: deploy it (autoSync), or report it. */
function judgeNewHead(j: Judging, head: Target): Verdict {
  const last = j.state?.lastApplied;
  const applied = last === undefined ? 'nothing' : short(last.commit);
  const text = joined(`${head.ref} is at ${short(head.commit)}, last applied ${applied}`, j.driftText);
  if (j.state?.sync.failure === 'rejected' && j.state.sync.commit === head.commit)
    return {
      action: 'none',
      message: `${text}; that commit was rejected, waiting for a new one`,
      change: {},
    };
  if (!j.autoSync)
    return {
      action: 'out-of-sync',
      message: `${text}; autoSync is off, nothing applied`,
      change: outOfSync(j, text),
    };
  if (j.dependencyWait !== undefined) {
    const waiting = `${text}; ${j.dependencyWait}`;
    return { action: 'waiting', message: waiting, change: outOfSync(j, waiting) };
  }
  return queueOrSay(j, { ...head, reason: 'new-commit' }, 'deploy', text, outOfSync(j, text));
}

/** The part runs the head: heal its drift (selfHeal), report it, or say it is in sync. */
function judgeApplied(j: Judging, last: AppliedCommit): Verdict {
  if (j.drifted.length > 0) {
    const heal = { commit: last.commit, ref: last.ref, reason: 'drift' as const };
    if (j.selfHeal && j.autoSync) return queueOrSay(j, heal, 'heal', j.driftText, outOfSync(j, j.driftText));
    const message = `${j.driftText}; selfHeal is off, nothing applied`;
    return { action: 'out-of-sync', message, change: outOfSync(j, j.driftText) };
  }
  const healed: CheckChange =
    j.state?.sync.status === 'OutOfSync'
      ? { sync: { status: 'Synced', message: 'in sync', at: j.at, commit: last.commit } }
      : {};
  const inSync = `in sync with ${short(last.commit)} (${j.dryRuns} object(s) dry-run)`;
  if (j.promotionWait !== undefined)
    return { action: 'waiting', message: joined(inSync, j.promotionWait), change: healed };
  return { action: 'none', message: inSync, change: healed };
}

/** Enqueues a deploy, or says it is already queued when an earlier check's is still within its grace period. */
function queueOrSay(
  j: Judging,
  target: { commit: string; ref: string; reason: QueuedDeploy['reason'] },
  action: 'deploy' | 'heal',
  text: string,
  change: CheckChange,
): Verdict {
  const queued = j.state?.queued;
  const recent = queued !== undefined && Date.parse(j.at) - Date.parse(queued.at) < QUEUED_GRACE_MS;
  if (recent && queued.commit === target.commit && queued.reason === target.reason) {
    return {
      action: 'queued',
      message: `${text}; a ${action} is already queued (since ${queued.at})`,
      change,
    };
  }
  const marker = { commit: target.commit, reason: target.reason, checkId: j.id, at: j.at };
  const message = `${text}; ${action === 'heal' ? 're-apply' : 'deploy'} enqueued`;
  return { action, message, change: { ...change, queued: marker }, enqueue: { ...marker, ref: target.ref } };
}

/** Sends the job after the check (with its marker) is recorded, so a fast deployment clears the marker after it. */
async function enqueue(
  deps: CheckDependencies,
  key: PartKey,
  queued: QueuedDeploy & { ref: string },
  record: CheckRecord,
): Promise<CheckRecord> {
  const job = createJob(key, queued, { kind: 'reconcile', checkId: queued.checkId, reason: queued.reason });
  try {
    await deps.queue.enqueue([job]);
    return record;
  } catch (error) {
    const message = `${record.message}, but the deploy queue refused it: ${errorMessage(error)}`;
    const failed = { ...record, action: 'error' as const, message };
    await deps.store.recordCheck(key, failed, { queued: null });
    return failed;
  }
}

/**
 * Tells the commits what the check did: pending on the commit a deploy or heal was enqueued for, OutOfSync on
 * the applied commit when objects drifted and nothing heals them; and a change of the part's sync status.
 */
function tell(
  feedback: FeedbackEvents | undefined,
  key: PartKey,
  seen: Observation,
  verdict: Verdict,
  record: CheckRecord,
): void {
  if (feedback === undefined) return;
  const last = seen.state?.lastApplied;
  if (verdict.enqueue !== undefined) {
    const { commit, ref, reason } = verdict.enqueue;
    const description = reason === 'drift' ? 'queued: heal of drifted objects' : 'queued';
    feedback.status({ key, commit, ref, state: 'pending', description });
  } else if (seen.drifted.length > 0 && last !== undefined) {
    const description = oneLine(`OutOfSync: ${seen.drifted.length} object(s) drifted`);
    feedback.status({ key, commit: last.commit, ref: last.ref, state: 'out-of-sync', description });
  }
  const from = seen.state?.sync.status ?? 'Unknown';
  const to = verdict.change.sync?.status;
  if (to !== undefined && to !== from) {
    feedback.changed({ key, from, to, message: record.message, at: record.at, ...headCommit(record) });
  }
}

const headCommit = (record: CheckRecord) =>
  record.headCommit === undefined ? {} : { commit: record.headCommit };
