// The Git hosts the intake understands, each as one small object: how to recognise its deliveries, check their
// authenticity and read their pushes. Detection order matters: Gitea and Forgejo also send GitHub's headers.
import { gitea } from './gitea.ts';
import { github } from './github.ts';
import { gitlab } from './gitlab.ts';
import type { JsonObject, PushEvent } from './normalise.ts';
import type { DecodedBody, Provider, WebhookRequest } from './request.ts';
import type { Verdict } from './verification.ts';

export type Headers = WebhookRequest['headers'];

/** What an event asks of Ferry: a push to match, a ping to acknowledge, or nothing. */
export type EventKind = 'push' | 'ping' | 'other';

export interface VerificationInput {
  readonly headers: Headers;
  /** The raw body: bytes, or text whose UTF-8 encoding is the bytes. */
  readonly body: Uint8Array | string;
  readonly decoded: DecodedBody;
  /** Every accepted secret of the repository (more than one during a rotation). */
  readonly secrets: readonly string[];
  readonly nowSeconds: number;
}

export interface ProviderSpec {
  readonly name: Provider;
  /** Whether the headers are this host's. */
  detect(headers: Headers): boolean;
  /** The event name as the host sends it, e.g. `push` or `Tag Push Hook`. */
  event(headers: Headers): string | undefined;
  /** The delivery id, equal across the host's retries and redeliveries. */
  deliveryId(headers: Headers): string | undefined;
  kind(event: string, payload: JsonObject): EventKind;
  /** The repository the payload names, as a `repositoryKey`. */
  repository(payload: JsonObject): string | undefined;
  verify(input: VerificationInput): Verdict | Promise<Verdict>;
  /** The push event of a `push` kind payload; throws `MalformedPush` for a payload of the wrong shape. */
  normalise(payload: JsonObject): PushEvent;
}

const PROVIDERS: readonly ProviderSpec[] = [gitea, github, gitlab];

/** The host that sent a delivery, or undefined when the headers are none of theirs. */
export function detectProvider(headers: Headers): ProviderSpec | undefined {
  return PROVIDERS.find((provider) => provider.detect(headers));
}
