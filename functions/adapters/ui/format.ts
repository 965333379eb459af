// How the status page writes the values it shows: sync statuses, commits, times, durations, triggers and field
// values, each one way on every page.
import { short } from '../../core/model/commit.ts';
import type { JobTrigger } from '../../core/model/job.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { CheckAction, SyncStatus } from '../../core/model/records.ts';
import { type Html, html } from './html.ts';

/** The path of a part's page. */
export const partPath = ({ app, environment, part }: PartKey): string =>
  `/parts/${[app, environment, part].map(encodeURIComponent).join('/')}`;

/** A part's name for people: `shop/staging`, with `(configuration)` for an environment's configuration. */
export const partLabel = ({ app, environment, part }: PartKey): string =>
  `${app}/${environment}${part === 'config' ? ' (configuration)' : ''}`;

/** A sync status as a word in a coloured box: the word carries the meaning, the colour repeats it. */
export const statusBadge = (status: SyncStatus): Html =>
  html`<span class="status status-${status.toLowerCase()}">${status}</span>`;

/** A deployment's result, coloured as the sync status it leads to. */
export function resultBadge(result: string): Html {
  const tone = result === 'succeeded' ? 'synced' : result === 'failed' ? 'failed' : 'unknown';
  return html`<span class="status status-${tone}">${result}</span>`;
}

/** A commit's first 12 hex digits, the whole id for copying beside it on hover and to assistive technology. */
export const commitCode = (commit: string | undefined): Html | string =>
  commit === undefined ? 'none' : html`<code title="${commit}">${short(commit)}</code>`;

/** `2026-12-01 10:00:04 UTC`. */
const absolute = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

/** How long ago, or how soon, in words: `just now`, `42 s ago`, `5 min ago`, `in 3 h`, `2 days ago`. */
export function ago(iso: string, now: string): string {
  const signed = Math.round((Date.parse(now) - Date.parse(iso)) / 1000);
  if (!Number.isFinite(signed)) return '';
  const seconds = Math.abs(signed);
  if (seconds < 5) return 'just now';
  const span =
    seconds < 90
      ? `${seconds} s`
      : seconds < 90 * 60
        ? `${Math.round(seconds / 60)} min`
        : seconds < 36 * 3600
          ? `${Math.round(seconds / 3600)} h`
          : `${Math.round(seconds / 86400)} days`;
  return signed > 0 ? `${span} ago` : `in ${span}`;
}

/** A time as a `<time>`: how long ago, or the time itself with how long ago. */
export function timeOf(iso: string | undefined, now: string, form: 'ago' | 'full' = 'full'): Html | string {
  if (iso === undefined || iso === '') return 'never';
  const since = ago(iso, now);
  if (form === 'ago') return html`<time datetime="${iso}" title="${absolute(iso)}">${since}</time>`;
  return html`<time datetime="${iso}">${absolute(iso)}</time>${since === '' ? '' : ` (${since})`}`;
}

/** `4.2 s`, `3 min 5 s`. */
export function duration(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** What started a deployment, in words. */
export function triggerText(trigger: JobTrigger): string {
  const { kind } = trigger;
  switch (trigger.kind) {
    case 'push':
      return `a push from ${trigger.provider}`;
    case 'reconcile':
      return trigger.reason === 'drift' ? 'a check found drift (heal)' : 'a check found a new commit';
    case 'manual':
      return `a manual deploy by ${trigger.requestedBy}${trigger.pin ? ', pinned' : ''}`;
    default:
      return kind;
  }
}

const CHECK_ACTIONS: Readonly<Partial<Record<string, string>>> = {
  none: 'nothing to do',
  deploy: 'enqueued a deploy',
  heal: 'enqueued a heal',
  queued: 'a deploy is queued',
  'out-of-sync': 'reported OutOfSync',
  pinned: 'held by the pin',
};

/** What a check did, in words. */
export const checkActionText = (action: CheckAction): string => CHECK_ACTIONS[action] ?? action;

/** A field's value in a diff: JSON, or `absent` where one side has no such field. */
export const fieldValue = (value: unknown): string =>
  value === undefined ? 'absent' : typeof value === 'string' ? value : JSON.stringify(value, null, 1);

/** A message on one line (its list items run on), cut for a cell of the grid. */
export function oneLine(text: string, max = 160): string {
  const line = text
    .split('\n')
    .map((l) => l.trim().replace(/^- /, ''))
    .filter((l) => l !== '')
    .join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `1 object`, `3 objects`. */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** A table in a box that scrolls sideways on a narrow screen rather than crushing its columns. */
export const scrolling = (table: Html): Html => html`<div class="scroll">${table}</div>`;
