// Bitbucket Cloud: `X-Event-Key` (`repo:push`), `X-Request-UUID` (one per event, kept across Bitbucket's
// retries, which `X-Attempt-Number` counts), `X-Hook-UUID`, and with a secret an HMAC-SHA256 of the raw body in
// `X-Hub-Signature: sha256=<hex>`. One push may update several refs (`push.changes`); its commits list no
// paths, so every path counts as changed.
import { isCommitId } from '../model/commit.ts';
import {
  booleanAt,
  firstRepositoryKey,
  fullRef,
  type JsonObject,
  listAt,
  MalformedPush,
  objectAt,
  objectId,
  objectIn,
  pushEvent,
  ZERO_ID,
} from './normalise.ts';
import type { ProviderSpec } from './provider-spec.ts';
import { branchRef, DRAFT, notPlanned, type PullRequestEvent, pullRequestNumber } from './pull-request.ts';
import { hubSignatureVerdict } from './verification.ts';

/** Bitbucket Cloud's pull request events: created and updated bring a head to plan, the others close it. */
const PULL_REQUEST_EVENTS = new Set([
  'pullrequest:created',
  'pullrequest:updated',
  'pullrequest:fulfilled',
  'pullrequest:rejected',
]);

/** A ref's state before or after the change (`old`, `new`): null when the ref did not or does not exist. */
function refState(change: JsonObject, key: 'old' | 'new', at: string): JsonObject | undefined {
  const state = change[key];
  return state === null || state === undefined ? undefined : objectIn(state, `${at}.${key}`);
}

/** `refs/heads/…` for a branch, `refs/tags/…` for a tag, `refs/<type>/…` (not deployed) for other kinds. */
function refOf(state: JsonObject, at: string): string {
  const { type, name } = state;
  if (typeof type !== 'string' || typeof name !== 'string' || name === '') {
    throw new MalformedPush(`"${at}" has no type and name`);
  }
  const prefix = type === 'branch' ? 'heads' : type === 'tag' ? 'tags' : type;
  return fullRef(`refs/${prefix}/${name}`, `${at}.name`);
}

/** Bitbucket Cloud and Data Center sign alike: `X-Hub-Signature: sha256=<hex>` over the raw body. */
export const verifyBitbucketSignature: ProviderSpec['verify'] = ({ headers, decoded, secrets }) =>
  hubSignatureVerdict('X-Hub-Signature', headers['x-hub-signature'], secrets, decoded.text);

export const bitbucket: ProviderSpec = {
  name: 'bitbucket',
  detect: (headers) =>
    headers['x-event-key'] !== undefined &&
    (headers['x-request-uuid'] !== undefined || headers['x-hook-uuid'] !== undefined),
  event: (headers) => headers['x-event-key'],
  deliveryId: (headers) => headers['x-request-uuid'],
  kind: (event) =>
    event === 'repo:push' ? 'push' : PULL_REQUEST_EVENTS.has(event) ? 'pull-request' : 'other',
  repository: (payload) => {
    const links = objectAt(objectAt(payload, 'repository'), 'links');
    return firstRepositoryKey([objectAt(links, 'html')?.href]);
  },
  verify: verifyBitbucketSignature,
  normalise(payload) {
    const repository = bitbucket.repository(payload);
    const push = objectIn(payload.push, 'push');
    const changes = listAt(push, 'changes', 'push.changes') ?? [];
    return changes.map((element, i) => {
      const at = `push.changes[${i}]`;
      const change = objectIn(element, at);
      const before = refState(change, 'old', at);
      const after = refState(change, 'new', at);
      const current = after ?? before;
      if (current === undefined) throw new MalformedPush(`"${at}" has neither "old" nor "new"`);
      return pushEvent({
        provider: 'bitbucket',
        repository,
        ref: refOf(current, after === undefined ? `${at}.old` : `${at}.new`),
        // A tag's target is its commit.
        before:
          before === undefined
            ? ZERO_ID
            : objectId(objectAt(before, 'target')?.hash, `${at}.old.target.hash`),
        after:
          after === undefined ? ZERO_ID : objectId(objectAt(after, 'target')?.hash, `${at}.new.target.hash`),
        changedPaths: [],
        listedEveryPath: false,
        created: before === undefined,
        deleted: after === undefined,
        forced: booleanAt(change, 'forced'),
      });
    });
  },
  pullRequest: (event, payload) => bitbucketPullRequest(event, payload),
};

/**
 * A Bitbucket Cloud pull request event: `pullrequest.id`, `destination.branch.name`, `source.branch.name` and
 * `source.commit.hash`, which Bitbucket abbreviates (the head is then the source branch's, read when the plan
 * runs). Bitbucket Cloud keeps no ref of a fork's head in the repository, so forks cannot be planned.
 */
function bitbucketPullRequest(event: string, payload: JsonObject): PullRequestEvent {
  const pull = objectIn(payload.pullrequest, 'pullrequest');
  const source = objectAt(pull, 'source');
  const destination = objectAt(pull, 'destination');
  const hash = objectAt(source, 'commit')?.hash;
  const fork = objectAt(source, 'repository')?.full_name !== objectAt(destination, 'repository')?.full_name;
  const action = event.slice('pullrequest:'.length);
  return {
    provider: 'bitbucket',
    repository: bitbucket.repository(payload),
    number: pullRequestNumber(pull.id, 'pullrequest.id'),
    action,
    ignored: !['created', 'updated'].includes(action)
      ? notPlanned(action === 'fulfilled' ? 'merged' : action === 'rejected' ? 'declined' : action)
      : fork
        ? 'its head is in a fork, of which Bitbucket Cloud keeps no ref in this repository: it cannot be planned'
        : booleanAt(pull, 'draft') === true
          ? DRAFT
          : undefined,
    base: branchRef(objectAt(destination, 'branch')?.name, 'pullrequest.destination.branch.name'),
    commit: isCommitId(hash) ? hash : undefined,
    headRef: branchRef(objectAt(source, 'branch')?.name, 'pullrequest.source.branch.name'),
    fork,
  };
}
