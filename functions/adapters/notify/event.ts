// What every notifier says about a change of a part's sync status: one event (the JSON that SNS and the JSON
// webhook carry), a delivery id that a receiver deduplicates by, and a headline for people.
import { createHash } from 'node:crypto';
import type { NotificationEvent } from '../../core/config.ts';
import { short } from '../../core/model/commit.ts';
import type { SyncChange } from '../../core/model/feedback.ts';
import { type PartName, partId } from '../../core/model/part.ts';
import type { SyncStatus } from '../../core/model/records.ts';

/** The longest message an event carries: a rejection can list every object of a revision. */
export const EVENT_MESSAGE_LENGTH = 4000;

/** The event of a notification, version 1: flat, every field always there but `commit`. */
export interface NotificationMessage {
  readonly version: 1;
  /** The same for every try of one change: receivers drop a repeated id. */
  readonly id: string;
  readonly event: NotificationEvent;
  readonly app: string;
  readonly environment: string;
  readonly part: PartName;
  readonly from: SyncStatus;
  readonly to: SyncStatus;
  /** The commit the new status speaks of: deployed, attempted, or found ahead. */
  readonly commit?: string;
  readonly message: string;
  /** When the change was recorded (ISO 8601). */
  readonly at: string;
}

/** Which event a change is; none for a change to Unknown, which Ferry never records. */
export function eventOf(change: Pick<SyncChange, 'from' | 'to'>): NotificationEvent | undefined {
  switch (change.to) {
    case 'Failed':
      return 'failed';
    case 'OutOfSync':
      return 'out-of-sync';
    case 'Synced':
      return change.from === 'Failed' || change.from === 'OutOfSync' ? 'recovered' : 'synced';
    default:
      return undefined;
  }
}

/** A delivery id derived from the change itself: every try, from any function, sends the same one. */
export function deliveryId(change: SyncChange): string {
  const identity = [partId(change.key), change.from, change.to, change.commit ?? '', change.at].join('\n');
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** The event of a change, or undefined when it is none to tell. */
export function notificationOf(change: SyncChange): NotificationMessage | undefined {
  const event = eventOf(change);
  if (event === undefined) return undefined;
  const { app, environment, part } = change.key;
  return {
    version: 1,
    id: deliveryId(change),
    event,
    app,
    environment,
    part,
    from: change.from,
    to: change.to,
    ...(change.commit === undefined ? {} : { commit: change.commit }),
    message: clip(change.message, EVENT_MESSAGE_LENGTH),
    at: change.at,
  };
}

/** `shop/production failed at 3f2c1a9e0b4d`: one line for a subject or a chat message. */
export function headline(message: NotificationMessage): string {
  const part = `${message.app}/${message.environment}${message.part === 'config' ? ' (config)' : ''}`;
  const at = message.commit === undefined ? '' : ` at ${short(message.commit)}`;
  switch (message.event) {
    case 'failed':
      return `${part} failed${at}`;
    case 'out-of-sync':
      return `${part} is OutOfSync${message.commit === undefined ? '' : ` (head ${short(message.commit)})`}`;
    case 'recovered':
      return `${part} recovered: Synced${at}`;
    case 'synced':
      return `${part} is Synced${at}`;
  }
}

/** The first line of a message, cut to `length` characters. */
export function firstLine(text: string, length: number): string {
  return clip(text.split('\n', 1)[0] ?? '', length);
}

export function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
