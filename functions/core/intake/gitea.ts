// Gitea and Forgejo: `X-Gitea-Event` (Forgejo also `X-Forgejo-Event`), a delivery UUID, and a hex
// HMAC-SHA256 in `X-Gitea-Signature` (also as `X-Hub-Signature-256: sha256=…`). Both also send GitHub's
// event headers, so they are detected first. Unlike GitHub, they sign the JSON payload even when they send it
// as a form.
import {
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
import { hubSignatureVerdict } from './verification.ts';

export const gitea: ProviderSpec = {
  name: 'gitea',
  detect: (headers) => headers['x-gitea-event'] !== undefined || headers['x-forgejo-event'] !== undefined,
  event: (headers) => headers['x-forgejo-event'] ?? headers['x-gitea-event'],
  deliveryId: (headers) =>
    headers['x-forgejo-delivery'] ?? headers['x-gitea-delivery'] ?? headers['x-github-delivery'],
  kind: (event) => (event === 'push' ? 'push' : event === 'pull_request' ? 'pull-request' : 'other'),
  repository: cloneUrlRepositoryKey,
  verify({ headers, decoded, secrets }) {
    const hex = headers['x-forgejo-signature'] ?? headers['x-gitea-signature'];
    const signature = hex !== undefined ? `sha256=${hex}` : headers['x-hub-signature-256'];
    return hubSignatureVerdict('X-Gitea-Signature', signature, secrets, decoded.payloadText);
  },
  normalise(payload) {
    const changed = changedPathsOf(payload);
    const total = payload.total_commits;
    return [
      pushEvent({
        provider: 'gitea',
        repository: gitea.repository(payload),
        ...refUpdateOf(payload),
        peeledCommit: optionalObjectId(objectAt(payload, 'head_commit')?.id, 'head_commit.id'),
        changedPaths: changed.paths,
        // Gitea truncates the list it sends; `total_commits` (Gitea 1.18 and later) has the truth. Without it,
        // the list cannot be trusted to be complete.
        listedEveryPath: typeof total === 'number' && changed.commits >= total,
      }),
    ];
  },
  pullRequest: (_event, payload) => giteaPullRequest(payload),
};

/**
 * The actions of a `pull_request` event that bring a head to plan: Gitea sends assignments, labels, milestones
 * and review requests under the same event, with their own actions.
 */
const PLANNED_ACTIONS = new Set(['opened', 'reopened', 'synchronized']);

/**
 * Gitea's and Forgejo's `pull_request` event: `number`, `pull_request.base.ref` (a branch name),
 * `pull_request.head.sha`, kept in the base repository under `refs/pull/<number>/head`, forks included.
 */
export const giteaPullRequest = (payload: JsonObject): PullRequestEvent =>
  hubPullRequest(payload, {
    provider: 'gitea',
    plannedActions: PLANNED_ACTIONS,
    fork: (base, head) => head?.repo_id !== base?.repo_id,
  });
