// One event shape for the pull request (merge request) deliveries of every Git host: what a plan needs to know
// (which branch it would merge into, which commit is its head and which ref of the repository follows it, whether
// that head is in a fork) and, for events that plan nothing, why. Fields are checked as pushes' are: a payload of
// the wrong shape is refused naming the field.
import type { Provider } from '../model/provider.ts';
import {
  booleanAt,
  cloneUrlRepositoryKey,
  fullRef,
  type JsonObject,
  MalformedPush,
  objectAt,
  objectId,
  stringAt,
} from './normalise.ts';

export interface PullRequestEvent {
  readonly provider: Provider;
  /** The repository it would merge into: see `repositoryKey`. */
  readonly repository: string | undefined;
  /** The number people see (GitLab's merge request iid). */
  readonly number: number;
  /** What happened, as the host names it (`synchronize`, `update`, `pr:opened`). */
  readonly action: string;
  /** Set when the event plans nothing: closed, merged, a draft, a change that brings no commit. */
  readonly ignored?: string | undefined;
  /** The branch it would merge into, as a full ref (`refs/heads/main`). */
  readonly base: string;
  /** The head commit the host reports; undefined where it sends an abbreviated one (Bitbucket Cloud). */
  readonly commit: string | undefined;
  /** The ref of the base repository that follows the head (`refs/pull/7/head`), or the source branch. */
  readonly headRef: string;
  /** The head lives in another repository. */
  readonly fork: boolean;
}

/** The number of a pull request: a positive integer. */
export function pullRequestNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new MalformedPush(`"${what}" is not a pull request number`);
  return value;
}

/** A branch name as hosts send it (`main`), as a full ref. */
export function branchRef(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new MalformedPush(`"${what}" is not a branch name`);
  return fullRef(value.startsWith('refs/') ? value : `refs/heads/${value}`, what);
}

/** A string field that must be there. */
export function requiredString(value: JsonObject | undefined, key: string, what: string): string {
  const found = stringAt(value, key);
  if (found === undefined) throw new MalformedPush(`"${what}" is missing`);
  return found;
}

/** The head commit: a full object id. */
export const headCommit = (value: unknown, what: string): string => objectId(value, what);

/** Why a draft is not planned: planned once it is ready for review. */
export const DRAFT = 'a draft: planned once it is marked ready for review';

/** What an action that plans nothing says. */
export const notPlanned = (action: string): string => `pull request ${action}: nothing to plan`;

/**
 * A `pull_request` event as GitHub sends it, and Gitea and Forgejo after it: `number`, `pull_request.base.ref`
 * (a branch name), `pull_request.head.sha`, whose commits the base repository keeps under
 * `refs/pull/<number>/head`, forks included. The hosts differ in the actions that bring a head and in how a
 * fork shows.
 */
export function hubPullRequest(
  payload: JsonObject,
  host: {
    readonly provider: Provider;
    readonly plannedActions: ReadonlySet<string>;
    readonly fork: (base: JsonObject | undefined, head: JsonObject | undefined) => boolean;
  },
): PullRequestEvent {
  const action = stringAt(payload, 'action') ?? '';
  const pull = objectAt(payload, 'pull_request');
  if (pull === undefined) throw new MalformedPush('"pull_request" is not an object');
  const number = pullRequestNumber(payload.number ?? pull.number, 'number');
  const base = objectAt(pull, 'base');
  const head = objectAt(pull, 'head');
  const merged = booleanAt(pull, 'merged') === true;
  return {
    provider: host.provider,
    repository: cloneUrlRepositoryKey(payload),
    number,
    action,
    ignored: !host.plannedActions.has(action)
      ? notPlanned(action === 'closed' && merged ? 'merged' : action)
      : booleanAt(pull, 'draft') === true
        ? DRAFT
        : undefined,
    base: branchRef(base?.ref, 'pull_request.base.ref'),
    commit: headCommit(head?.sha, 'pull_request.head.sha'),
    headRef: `refs/pull/${number}/head`,
    fork: host.fork(base, head),
  };
}
