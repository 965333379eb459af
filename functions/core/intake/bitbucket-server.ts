// Bitbucket Data Center (and Server): `X-Event-Key` (`repo:refs_changed` for a push, `diagnostics:ping` for the
// hook's test), `X-Request-Id`, and with a secret an HMAC-SHA256 of the raw body in
// `X-Hub-Signature: sha256=<hex>`. One push may update several refs (`changes`); the payload lists no paths, so
// every path counts as changed.
import { verifyBitbucketSignature } from './bitbucket.ts';
import {
  firstRepositoryKey,
  fullRef,
  isObject,
  listAt,
  objectAt,
  objectId,
  objectIn,
  pushEvent,
} from './normalise.ts';
import type { ProviderSpec } from './provider-spec.ts';

export const bitbucketServer: ProviderSpec = {
  name: 'bitbucket-server',
  // After Bitbucket Cloud, whose deliveries carry an `X-Request-UUID` or `X-Hook-UUID` besides.
  detect: (headers) => headers['x-event-key'] !== undefined,
  event: (headers) => headers['x-event-key'],
  deliveryId: (headers) => headers['x-request-id'],
  kind: (event) => (event === 'repo:refs_changed' ? 'push' : event === 'diagnostics:ping' ? 'ping' : 'other'),
  // The HTTP clone URL (`https://host/scm/project/repo.git`), as the repository is configured.
  repository: (payload) => {
    const links = objectAt(objectAt(payload, 'repository'), 'links');
    const clone = Array.isArray(links?.clone) ? links.clone : [];
    return firstRepositoryKey(clone.map((link: unknown) => (isObject(link) ? link.href : undefined)));
  },
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
};
