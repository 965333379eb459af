// GitHub (and GitHub Enterprise Server): `X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256` over the
// raw body, which is JSON or a form with a `payload` field.
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

/** GitHub lists at most this many commits in a push payload. */
export const GITHUB_MAX_COMMITS = 2048;

export const github: ProviderSpec = {
  name: 'github',
  detect: (headers) => headers['x-github-event'] !== undefined,
  event: (headers) => headers['x-github-event'],
  deliveryId: (headers) => headers['x-github-delivery'],
  kind: (event) => (event === 'push' ? 'push' : event === 'ping' ? 'ping' : 'other'),
  repository: cloneUrlRepositoryKey,
  async verify({ headers, decoded, secrets }) {
    const signature = headers['x-hub-signature-256'];
    if (signature === undefined) {
      return refused(
        headers['x-hub-signature'] === undefined
          ? 'missing X-Hub-Signature-256'
          : 'only a SHA-1 X-Hub-Signature was sent: X-Hub-Signature-256 is required',
      );
    }
    // GitHub signs the raw body: the JSON, or the whole form for a form-encoded delivery.
    return (await verifyHubSignature(secrets, decoded.text, signature))
      ? AUTHENTIC
      : refused('X-Hub-Signature-256 does not match');
  },
  normalise(payload: JsonObject) {
    const commits = arrayAt(payload, 'commits') ?? [];
    return pushEvent({
      provider: 'github',
      repository: github.repository(payload),
      payload,
      peeledCommit: optionalObjectId(objectAt(payload, 'head_commit')?.id, 'head_commit.id'),
      commits,
      commitListComplete: commits.length < GITHUB_MAX_COMMITS,
      created: typeof payload.created === 'boolean' ? payload.created : undefined,
      deleted: typeof payload.deleted === 'boolean' ? payload.deleted : undefined,
      forced: typeof payload.forced === 'boolean' ? payload.forced : undefined,
    });
  },
};
