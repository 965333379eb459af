// Bitbucket Data Center (and Server): `X-Event-Key` (`repo:refs_changed` for a push, `diagnostics:ping` for the
// hook's test), `X-Request-Id`, and with a secret an HMAC-SHA256 of the raw body in
// `X-Hub-Signature: sha256=<hex>`. One push may update several refs (`changes`); the payload lists no paths, so
// every path counts as changed.
import { verifyBitbucketSignature } from './bitbucket.ts';
import {
  booleanAt,
  firstRepositoryKey,
  fullRef,
  isObject,
  type JsonObject,
  listAt,
  objectAt,
  objectId,
  objectIn,
  pushEvent,
} from './normalise.ts';
import type { ProviderSpec } from './provider-spec.ts';
import { DRAFT, notPlanned, type PullRequestEvent, pullRequestNumber } from './pull-request.ts';

/** Data Center's pull request events: opened, a new head (`from_ref_updated`), a new target (`modified`), the end. */
const PULL_REQUEST_EVENTS = new Set([
  'pr:opened',
  'pr:from_ref_updated',
  'pr:modified',
  'pr:merged',
  'pr:declined',
  'pr:deleted',
]);

/**
 * A repository object's HTTP clone URL, as a repository key. Pull request payloads may carry only its `self`
 * link (`<base>/projects/<key>/repos/<slug>/browse`), from which the clone URL (`<base>/scm/<key>/<slug>`) follows.
 */
function repositoryOf(repository: JsonObject | undefined): string | undefined {
  const links = objectAt(repository, 'links');
  const clone = Array.isArray(links?.clone) ? links.clone : [];
  const self = Array.isArray(links?.self) ? links.self : [];
  const browse = self.map((link: unknown) => (isObject(link) ? link.href : undefined));
  return firstRepositoryKey([
    ...clone.map((link: unknown) => (isObject(link) ? link.href : undefined)),
    ...browse.map((href) =>
      typeof href === 'string'
        ? href.replace(/\/projects\/([^/]+)\/repos\/([^/]+)(\/.*)?$/, '/scm/$1/$2')
        : undefined,
    ),
  ]);
}

export const bitbucketServer: ProviderSpec = {
  name: 'bitbucket-server',
  // After Bitbucket Cloud, whose deliveries carry an `X-Request-UUID` or `X-Hook-UUID` besides.
  detect: (headers) => headers['x-event-key'] !== undefined,
  event: (headers) => headers['x-event-key'],
  deliveryId: (headers) => headers['x-request-id'],
  kind: (event) =>
    event === 'repo:refs_changed'
      ? 'push'
      : PULL_REQUEST_EVENTS.has(event)
        ? 'pull-request'
        : event === 'diagnostics:ping'
          ? 'ping'
          : 'other',
  // The HTTP clone URL (`https://host/scm/project/repo.git`), as the repository is configured; a pull request's
  // is its target's.
  repository: (payload) =>
    repositoryOf(
      objectAt(payload, 'repository') ??
        objectAt(objectAt(objectAt(payload, 'pullRequest'), 'toRef'), 'repository'),
    ),
  verify: verifyBitbucketSignature,
  normalise(payload) {
    const repository = bitbucketServer.repository(payload);
    const changes = listAt(payload, 'changes') ?? [];
    return changes.map((element, i) => {
      const at = `changes[${i}]`;
      const change = objectIn(element, at);
      // Created and deleted refs have an all-zero `fromHash` or `toHash`; `type` says so too.
      return pushEvent({
        provider: 'bitbucket-server',
        repository,
        ref: fullRef(change.refId, `${at}.refId`),
        before: objectId(change.fromHash, `${at}.fromHash`),
        after: objectId(change.toHash, `${at}.toHash`),
        changedPaths: [],
        listedEveryPath: false,
        created: change.type === 'ADD' || undefined,
        deleted: change.type === 'DELETE' || undefined,
      });
    });
  },
  pullRequest: (event, payload) => dataCenterPullRequest(event, payload),
};

/**
 * A Data Center pull request event: `pullRequest.id`, `toRef.id` (a full ref), `fromRef.latestCommit`; the
 * repository keeps the head under `refs/pull-requests/<id>/from`, forks included. A `pr:modified` plans only
 * when the target changed (`previousTarget`).
 */
function dataCenterPullRequest(event: string, payload: JsonObject): PullRequestEvent {
  const pull = objectIn(payload.pullRequest, 'pullRequest');
  const from = objectAt(pull, 'fromRef');
  const to = objectAt(pull, 'toRef');
  const number = pullRequestNumber(pull.id, 'pullRequest.id');
  const action = event.slice('pr:'.length);
  const planned =
    action === 'opened' || action === 'from_ref_updated' || payload.previousTarget !== undefined;
  return {
    provider: 'bitbucket-server',
    repository: bitbucketServer.repository(payload),
    number,
    action,
    ignored: !planned
      ? notPlanned(action === 'modified' ? 'modified, not its target or commits' : action)
      : booleanAt(pull, 'draft') === true
        ? DRAFT
        : undefined,
    base: fullRef(to?.id, 'pullRequest.toRef.id'),
    commit: objectId(from?.latestCommit, 'pullRequest.fromRef.latestCommit'),
    headRef: `refs/pull-requests/${number}/from`,
    fork: objectAt(from, 'repository')?.id !== objectAt(to, 'repository')?.id,
  };
}
