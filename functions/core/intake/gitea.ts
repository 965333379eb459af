// Gitea and Forgejo: `X-Gitea-Event` (Forgejo also `X-Forgejo-Event`), a delivery UUID, and a hex
// HMAC-SHA256 in `X-Gitea-Signature` (also as `X-Hub-Signature-256: sha256=…`). Both also send GitHub's
// event headers, so they are detected first. Unlike GitHub, they sign the JSON payload even when they send it
// as a form.
import {
  arrayAt,
  cloneUrlRepositoryKey,
  type JsonObject,
  objectAt,
  optionalObjectId,
  pushEvent,
} from './normalise.ts';
import type { ProviderSpec } from './providers.ts';
import { AUTHENTIC, refused, verifyHubSignature } from './verification.ts';

export const gitea: ProviderSpec = {
  name: 'gitea',
  detect: (headers) => headers['x-gitea-event'] !== undefined || headers['x-forgejo-event'] !== undefined,
  event: (headers) => headers['x-forgejo-event'] ?? headers['x-gitea-event'],
  deliveryId: (headers) =>
    headers['x-forgejo-delivery'] ?? headers['x-gitea-delivery'] ?? headers['x-github-delivery'],
  kind: (event) => (event === 'push' ? 'push' : 'other'),
  repository: cloneUrlRepositoryKey,
  async verify({ headers, decoded, secrets }) {
    const hex = headers['x-forgejo-signature'] ?? headers['x-gitea-signature'];
    const signature = hex !== undefined ? `sha256=${hex}` : headers['x-hub-signature-256'];
    if (signature === undefined) return refused('missing X-Gitea-Signature');
    return (await verifyHubSignature(secrets, decoded.payloadText, signature))
      ? AUTHENTIC
      : refused('X-Gitea-Signature does not match');
  },
  normalise(payload: JsonObject) {
    const commits = arrayAt(payload, 'commits') ?? [];
    const total = payload.total_commits;
    return pushEvent({
      provider: 'gitea',
      repository: gitea.repository(payload),
      payload,
      peeledCommit: optionalObjectId(objectAt(payload, 'head_commit')?.id, 'head_commit.id'),
      commits,
      // Gitea truncates the list it sends; `total_commits` (Gitea 1.18 and later) has the truth. Without it,
      // the list cannot be trusted to be complete.
      commitListComplete: typeof total === 'number' && commits.length >= total,
    });
  },
};
