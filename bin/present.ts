// How the CLI shows the operations read model: tables with aligned columns, every message whole (indented under
// what it belongs to), times without milliseconds, durations for people; colours only on a terminal.
import { short } from '../functions/core/model/commit.ts';
import type { JobTrigger } from '../functions/core/model/job.ts';
import type { DeploymentRecord, SyncStatus } from '../functions/core/model/records.ts';
import {
  type PartStatus,
  type QueueStatus,
  type StatusReport,
  summariseDeployment,
} from '../functions/core/model/status.ts';
import { paint, type Style } from './cli.ts';

/** A table cell: its text and, on a terminal, its style. */
export type Cell = string | { readonly text: string; readonly style: Style };

const textOf = (cell: Cell) => (typeof cell === 'string' ? cell : cell.text);

/**
 * Rows in aligned columns (the first row a header), each followed by its detail lines when given. Widths are
 * measured on the plain text, so styles never break the alignment.
 */
export function table(
  rows: readonly (readonly Cell[])[],
  details: readonly (readonly string[])[] = [],
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, textOf(cell).length);
  }
  return rows.flatMap((row, index) => {
    const line = row
      .map((cell, i) => {
        const text = textOf(cell);
        const padded = i === row.length - 1 ? text : text.padEnd(widths[i] ?? 0);
        if (index === 0) return paint('bold', padded);
        return typeof cell === 'string' ? padded : paint(cell.style, padded);
      })
      .join('  ');
    return [line.trimEnd(), ...(index === 0 ? [] : (details[index - 1] ?? []))];
  });
}

/** A time as people read it: ISO 8601 in UTC, to the second. */
export const when = (iso: string | undefined): string =>
  iso === undefined || iso === '' ? '-' : iso.replace(/\.\d+Z$/, 'Z');

/** A duration: `850 ms`, `4.2 s`, `3 min 12 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

const commit = (sha: string | undefined) => (sha === undefined ? '-' : short(sha));

/** A message whole, each of its lines indented under what it belongs to. */
export const indented = (text: string, indent = '    '): string[] =>
  text === '' ? [] : text.split('\n').map((line) => `${indent}${line}`);

export function describeTrigger(trigger: JobTrigger): string {
  if (trigger.kind === 'push') return `push (${trigger.provider})`;
  if (trigger.kind === 'reconcile') return `reconcile (${trigger.reason})`;
  if (trigger.kind === 'plan') return `plan (pull request #${trigger.pullRequest.number})`;
  return `manual (${trigger.requestedBy}${trigger.pin ? ', pin' : ''})`;
}

const SYNC_STYLES: Readonly<Record<SyncStatus, Style>> = {
  Synced: 'green',
  OutOfSync: 'yellow',
  Failed: 'red',
  Unknown: 'gray',
};

export const syncCell = (status: SyncStatus): Cell => ({ text: status, style: SYNC_STYLES[status] });

const RESULT_STYLES: Readonly<Record<string, Style>> = { succeeded: 'green', failed: 'red' };
const resultCell = (result: string): Cell => ({ text: result, style: RESULT_STYLES[result] ?? 'dim' });

/** The table's row of a part. */
function partRow(part: PartStatus): Cell[] {
  const flags = [
    part.suspended === null ? '' : 'suspended',
    part.lock === null ? '' : 'deploying',
    part.configured === false ? 'not configured' : '',
  ].filter((f) => f !== '');
  return [
    `${part.id}${flags.length === 0 ? '' : ` (${flags.join(', ')})`}`,
    syncCell(part.sync.status),
    commit(part.lastApplied?.commit),
    commit(part.head?.commit),
    part.pin === null ? '-' : `${short(part.pin.commit)} by ${part.pin.by}`,
    part.lastCheck === null ? '-' : `${when(part.lastCheck.at)} ${part.lastCheck.action}`,
  ];
}

/** Under a part's row: what it is held by, its last result and its last check, each message whole. */
function partDetails(part: PartStatus): string[] {
  const lines: string[] = [];
  if (part.suspended !== null) {
    const since = part.suspended.at === '' ? '' : ` since ${when(part.suspended.at)}`;
    const reason = part.suspended.reason === undefined ? '' : `: ${part.suspended.reason}`;
    lines.push(`  suspended by ${part.suspended.by}${since}${reason}`);
  }
  if (part.pin !== null) {
    const head = part.head === null ? 'not checked yet' : short(part.head.commit);
    lines.push(
      `  pinned at ${short(part.pin.commit)} (${part.pin.ref}) by ${part.pin.by} since ${when(part.pin.at)}; head ${head}`,
    );
  }
  const last = part.deployments[0];
  if (last !== undefined) {
    lines.push(
      `  last result: ${last.result} ${commit(last.commit)} ${describeTrigger(last.trigger)} at ${when(last.startedAt)}, ${duration(last.durationMs)} (${last.shortId})`,
      ...indented(last.message),
    );
  }
  if (part.sync.message !== '' && part.sync.message !== last?.message && part.sync.status !== 'Unknown') {
    lines.push(`  ${part.sync.status} since ${when(part.sync.at)}:`, ...indented(part.sync.message));
  }
  if (part.lastCheck !== null && part.lastCheck.message !== '') {
    lines.push(`  last check: ${part.lastCheck.action}`, ...indented(part.lastCheck.message));
  }
  if (part.lock !== null)
    lines.push(`  deploying: ${part.lock.owner}, lease until ${when(part.lock.expiresAt)}`);
  return lines;
}

/** The queue's lines: its counts, its jobs where they are listed, and its dead letters with their errors. */
export function queueLines(queue: QueueStatus): string[] {
  const unlisted = !queue.listsJobs && queue.queued + queue.running > 0;
  return [
    `Queue: ${queue.queued} queued, ${queue.running} running, ${queue.deadLetters.length} dead letters`,
    ...(unlisted ? ['  (an SQS queue tells how many jobs it holds, approximately, not which)'] : []),
    ...queue.jobs.map(
      (job) =>
        `  #${job.id} ${job.group} ${commit(job.commit)} ${job.trigger} ${job.running ? 'running' : 'queued'}, ${job.attempts} attempt(s)${job.lastError === undefined ? '' : `, last error: ${job.lastError}`}`,
    ),
    ...deadLetterLines(queue.deadLetters),
  ];
}

export function deadLetterLines(deadLetters: QueueStatus['deadLetters']): string[] {
  return deadLetters.flatMap((dead) => [
    `  dead letter ${dead.id}: ${dead.group} ${commit(dead.commit)}${dead.ref === undefined ? '' : ` (${dead.ref})`} ${dead.trigger ?? ''}, ${dead.attempts} attempt(s), failed at ${when(dead.failedAt)}`,
    ...indented(dead.lastError ?? 'no recorded error'),
  ]);
}

/** The report as text: a table of the parts with their details, then the queue. */
export function formatStatus(report: StatusReport): string {
  const parts = report.environments;
  const body =
    parts.length === 0
      ? ['No environment deployed or configured yet.']
      : table(
          [['PART', 'SYNC', 'APPLIED', 'HEAD', 'PINNED', 'LAST CHECK'], ...parts.map(partRow)],
          parts.map(partDetails),
        );
  return [...body, '', ...queueLines(report.queue)].join('\n');
}

/** The objects of a deployment: every one it changed or failed; those left unchanged only counted. */
function objectLines(record: DeploymentRecord): string[] {
  const unchanged = record.objects.filter((o) => o.action === 'unchanged').length;
  const shown = record.objects.filter((o) => o.action !== 'unchanged');
  const width = Math.max(0, ...shown.map((o) => o.action.length));
  return [
    ...shown.flatMap((o) => [
      `    ${o.action.padEnd(width)}  ${o.object}`,
      ...(o.message === undefined ? [] : indented(o.message, `      ${' '.repeat(width)}`)),
    ]),
    ...(unchanged === 0 ? [] : [`    ${unchanged} unchanged`]),
  ];
}

/** A part's deployments, newest first: one row each, its message and its objects under it. */
export function formatHistory(records: readonly DeploymentRecord[]): string {
  if (records.length === 0) return 'No deployment recorded yet.';
  const summaries = records.map(summariseDeployment);
  return table(
    [
      ['ID', 'STARTED', 'RESULT', 'COMMIT', 'REF', 'TRIGGER', 'DURATION'],
      ...summaries.map((d) => [
        d.shortId,
        when(d.startedAt),
        resultCell(d.failure === undefined ? d.result : `${d.result} (${d.failure})`),
        commit(d.commit),
        d.ref,
        describeTrigger(d.trigger),
        duration(d.durationMs),
      ]),
    ],
    records.map((record) => [...indented(record.message, '  '), ...objectLines(record)]),
  ).join('\n');
}
