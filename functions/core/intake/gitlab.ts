// GitLab: `X-Gitlab-Event`, the secret token in `X-Gitlab-Token`, and with a signing token a Standard Webhooks
// signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`). JSON bodies only.
import {
  booleanAt,
  changedPathsOf,
  firstRepositoryKey,
  type JsonObject,
  MalformedPush,
  objectAt,
  optionalObjectId,
  pushEvent,
  refUpdateOf,
  stringAt,
} from './normalise.ts';
import type { ProviderSpec } from './provider-spec.ts';
import {
  branchRef,
  DRAFT,
  headCommit,
  notPlanned,
  type PullRequestEvent,
  pullRequestNumber,
} from './pull-request.ts';
import {
  AUTHENTIC,
  refused,
  SIGNING_SECRET_PREFIX,
  tokensEqual,
  verifyStandardWebhook,
} from './verification.ts';

const PUSH_HOOKS = new Set(['Push Hook', 'Tag Push Hook', 'System Hook']);
const PUSH_KINDS = new Set(['push', 'tag_push']);

export const gitlab: ProviderSpec = {
  name: 'gitlab',
  detect: (headers) => headers['x-gitlab-event'] !== undefined,
  event: (headers) => headers['x-gitlab-event'],
  // A signed delivery's id is the signed `webhook-id` (GitLab sets it to the `Idempotency-Key`): the unsigned
  // headers could be changed to replay the delivery as new. `Idempotency-Key` stays the same across GitLab's
  // retries; older GitLab only sends the event UUID.
  deliveryId: (headers) =>
    headers['webhook-signature'] !== undefined
      ? headers['webhook-id']
      : (headers['idempotency-key'] ?? headers['x-gitlab-event-uuid']),
  kind(event, payload) {
    // System hooks carry pushes of every project; their body names the event.
    const objectKind = stringAt(payload, 'object_kind') ?? stringAt(payload, 'event_name');
    if (event === 'Merge Request Hook' && objectKind === 'merge_request') return 'pull-request';
    return PUSH_HOOKS.has(event) && objectKind !== undefined && PUSH_KINDS.has(objectKind) ? 'push' : 'other';
  },
  repository(payload) {
    const project = objectAt(payload, 'project');
    const repository = objectAt(payload, 'repository');
    return firstRepositoryKey([
      project?.git_http_url,
      project?.web_url,
      repository?.git_http_url,
      repository?.homepage,
    ]);
  },
  verify({ headers, body, secrets, nowSeconds }) {
    // A secret value may hold secret tokens (compared with X-Gitlab-Token) and `whsec_` signing tokens (which
    // verify webhook-signature). Every credential the delivery carries must verify, and it must carry one.
    const token = headers['x-gitlab-token'];
    const signature = headers['webhook-signature'];
    if (token === undefined && signature === undefined) return refused('missing X-Gitlab-Token');
    if (token !== undefined) {
      const tokens = secrets.filter((s) => !s.startsWith(SIGNING_SECRET_PREFIX));
      // Every candidate is compared, so the timing does not tell which one matched.
      let matched = false;
      for (const expected of tokens) matched = tokensEqual(expected, token) || matched;
      if (!matched) return refused('X-Gitlab-Token does not match');
    }
    if (signature !== undefined) {
      return verifyStandardWebhook(
        secrets.filter((s) => s.startsWith(SIGNING_SECRET_PREFIX)),
        { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature },
        body,
        nowSeconds,
      );
    }
    return AUTHENTIC;
  },
  normalise(payload) {
    const changed = changedPathsOf(payload);
    const total = payload.total_commits_count;
    return [
      pushEvent({
        provider: 'gitlab',
        repository: gitlab.repository(payload),
        ...refUpdateOf(payload),
        // `checkout_sha` is the commit (also for an annotated tag, whose `after` is the tag object); null when
        // the ref was deleted.
        peeledCommit: optionalObjectId(payload.checkout_sha, 'checkout_sha'),
        changedPaths: changed.paths,
        // GitLab lists at most 20 commits; `total_commits_count` has the truth.
        listedEveryPath: typeof total === 'number' && changed.commits >= total,
      }),
    ];
  },
  pullRequest: (_event, payload) => gitlabMergeRequest(payload),
};

/**
 * A Merge Request Hook: `object_attributes.action` open, reopen, or update (planned only when it brings commits:
 * then `oldrev` names the head before); `iid`, `target_branch`, `last_commit.id`; the target project keeps the
 * head under `refs/merge-requests/<iid>/head`, forks included.
 */
export function gitlabMergeRequest(payload: JsonObject): PullRequestEvent {
  const attributes = objectAt(payload, 'object_attributes');
  if (attributes === undefined) throw new MalformedPush('"object_attributes" is not an object');
  const action = stringAt(attributes, 'action') ?? '';
  const number = pullRequestNumber(attributes.iid, 'object_attributes.iid');
  const newCommits = action !== 'update' || stringAt(attributes, 'oldrev') !== undefined;
  const draft = booleanAt(attributes, 'draft') ?? booleanAt(attributes, 'work_in_progress');
  return {
    provider: 'gitlab',
    repository: gitlab.repository(payload),
    number,
    action,
    ignored: !['open', 'reopen', 'update'].includes(action)
      ? notPlanned(action)
      : !newCommits
        ? 'the merge request changed, not its commits: nothing new to plan'
        : draft === true
          ? DRAFT
          : undefined,
    base: branchRef(attributes.target_branch, 'object_attributes.target_branch'),
    commit: headCommit(objectAt(attributes, 'last_commit')?.id, 'object_attributes.last_commit.id'),
    headRef: `refs/merge-requests/${number}/head`,
    fork: attributes.source_project_id !== attributes.target_project_id,
  };
}
