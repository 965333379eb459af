// Checks of a delivery's authenticity: HMAC-SHA256 hub signatures (GitHub, Gitea, Bitbucket), plain tokens
// (GitLab) and Standard Webhooks signatures (GitLab's signing tokens).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';

/** The outcome of a check: authentic, or the reason it is not (safe to log and answer: no secret in it). */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export const AUTHENTIC: Verdict = { ok: true };

export function refused(reason: string): Verdict {
  return { ok: false, reason };
}

const verifiers = new Map<string, Webhooks>();

/** `@octokit/webhooks` verifies with one secret per instance; instances are kept per secret. */
function verifierFor(secret: string): Webhooks {
  let webhooks = verifiers.get(secret);
  if (webhooks === undefined) {
    if (verifiers.size > 100) verifiers.clear();
    webhooks = new Webhooks({ secret });
    verifiers.set(secret, webhooks);
  }
  return webhooks;
}

const HUB_SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * Checks a `sha256=<hex HMAC-SHA256(secret, payload)>` signature, as GitHub sends it in `X-Hub-Signature-256`,
 * against each accepted secret, through `@octokit/webhooks` (which compares in constant time). The payload text
 * is the UTF-8 decoding of the signed bytes (`decodeBody` makes sure it re-encodes to them exactly); a missing or
 * empty payload verifies with no secret.
 */
export async function verifyHubSignature(
  secrets: readonly string[],
  payload: string | undefined,
  signature: string,
): Promise<boolean> {
  // No host signs an empty payload; `@octokit/webhooks` throws on one, so it never gets there.
  if (payload === undefined || payload === '' || !HUB_SIGNATURE.test(signature)) return false;
  for (const secret of secrets) {
    if (await verifierFor(secret).verify(payload, signature)) return true;
  }
  return false;
}

/** The verdict on a hub signature sent in the header named `header`. */
export async function hubSignatureVerdict(
  header: string,
  signature: string | undefined,
  secrets: readonly string[],
  payload: string | undefined,
): Promise<Verdict> {
  if (signature === undefined) return refused(`missing ${header}`);
  return (await verifyHubSignature(secrets, payload, signature))
    ? AUTHENTIC
    : refused(`${header} does not match`);
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Compares a received token with the expected one in constant time. Both are hashed first, so that neither the
 * content nor the length of the expected token shows in the timing.
 */
export function tokensEqual(expected: string, received: string): boolean {
  return timingSafeEqual(digest(expected), digest(received));
}

/** Standard Webhooks signing secrets carry this prefix; the rest is the base64 key. */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** How far a Standard Webhooks timestamp may be from now. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export interface StandardWebhookHeaders {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string;
}

/**
 * Verifies a Standard Webhooks signature (https://www.standardwebhooks.com), which GitLab sends when the hook
 * has a signing token: `webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`
 * (several space-separated during a key rotation), the key being the base64-decoded part of `whsec_<base64>`.
 * Written with node:crypto because no Standard Webhooks library is among the dependencies and the scheme is a
 * few lines; the comparison is constant-time and the HMAC covers the raw body bytes.
 */
export function verifyStandardWebhook(
  signingSecrets: readonly string[],
  headers: StandardWebhookHeaders,
  body: Uint8Array | string,
  nowSeconds: number,
): Verdict {
  const { id, timestamp, signature } = headers;
  if (id === undefined || timestamp === undefined) {
    return refused('webhook-signature needs webhook-id and webhook-timestamp');
  }
  if (!/^\d{1,12}$/.test(timestamp)) return refused('webhook-timestamp is not a number of seconds');
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
    return refused('webhook-timestamp is more than 5 minutes away from now');
  }
  if (signingSecrets.length === 0) {
    return refused('webhook-signature received, but the secret holds no whsec_ signing token');
  }
  const received: Buffer[] = [];
  for (const entry of signature.split(' ')) {
    if (entry.startsWith('v1,')) received.push(Buffer.from(entry.slice(3), 'base64'));
  }
  if (received.length === 0) return refused('webhook-signature holds no v1 signature');
  for (const secret of signingSecrets) {
    const key = Buffer.from(secret.slice(SIGNING_SECRET_PREFIX.length), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
    if (received.some((r) => r.length === expected.length && timingSafeEqual(r, expected))) return AUTHENTIC;
  }
  return refused('webhook-signature does not match');
}
