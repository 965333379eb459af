// GitHub (and GitHub Enterprise Server): `X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256` over the
// raw body, which is JSON or a form with a `payload` field.
import {
  booleanAt,
  changedPathsOf,
  cloneUrlRepositoryKey,
  type JsonObject,
  objectAt,
  optionalObjectId,
  pushEvent,
  refUpdateOf,
} from './normalise.ts';
import type { ProviderSpec } from './provider-spec.ts';
import { hubPullRequest, type PullRequestEvent } from './pull-request.ts';
import { hubSignatureVerdict, refused } from './verification.ts';

/** GitHub lists at most this many commits in a push payload. */
export const GITHUB_MAX_COMMITS = 2048;

export const github: ProviderSpec = {
  name: 'github',
  detect: (headers) => headers['x-github-event'] !== undefined,
  event: (headers) => headers['x-github-event'],
  deliveryId: (headers) => headers['x-github-delivery'],
  kind: (event) =>
    event === 'push'
      ? 'push'
      : event === 'pull_request'
        ? 'pull-request'
        : event === 'ping'
          ? 'ping'
          : 'other',
  repository: cloneUrlRepositoryKey,
  verify({ headers, decoded, secrets }) {
    const signature = headers['x-hub-signature-256'];
    if (signature === undefined && headers['x-hub-signature'] !== undefined) {
      return refused('only a SHA-1 X-Hub-Signature was sent: X-Hub-Signature-256 is required');
    }
    // GitHub signs the raw body: the JSON, or the whole form for a form-encoded delivery.
    return hubSignatureVerdict('X-Hub-Signature-256', signature, secrets, decoded.text);
  },
  normalise(payload) {
    const changed = changedPathsOf(payload);
    return [
      pushEvent({
        provider: 'github',
        repository: github.repository(payload),
        ...refUpdateOf(payload),
        peeledCommit: optionalObjectId(objectAt(payload, 'head_commit')?.id, 'head_commit.id'),
        changedPaths: changed.paths,
        listedEveryPath: changed.commits < GITHUB_MAX_COMMITS,
        created: booleanAt(payload, 'created'),
        deleted: booleanAt(payload, 'deleted'),
        forced: booleanAt(payload, 'forced'),
      }),
    ];
  },
  pullRequest: (_event, payload) => githubPullRequest(payload),
};

/** The actions of a `pull_request` event that bring a head to plan. */
const PLANNED_ACTIONS = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review']);

/** GitHub's `pull_request` event; a deleted fork leaves `head.repo` null: its head is someone else's all the same. */
export const githubPullRequest = (payload: JsonObject): PullRequestEvent =>
  hubPullRequest(payload, {
    provider: 'github',
    plannedActions: PLANNED_ACTIONS,
    fork: (base, head) => {
      const headRepository = objectAt(head, 'repo')?.full_name;
      return headRepository === undefined || headRepository !== objectAt(base, 'repo')?.full_name;
    },
  });
