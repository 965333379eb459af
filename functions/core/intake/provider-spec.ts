// What the intake asks of each Git host it understands: how to recognise its deliveries, check their
// authenticity and read their pushes. Each host's module implements it; `providers.ts` lists them.
import type { Provider } from '../model/provider.ts';
import type { JsonObject, PushEvent } from './normalise.ts';
import type { PullRequestEvent } from './pull-request.ts';
import type { DecodedBody, WebhookRequest } from './request.ts';
import type { Verdict } from './verification.ts';

export type Headers = WebhookRequest['headers'];

/** What an event asks of Ferry: a push to match, a pull request to plan, a ping to acknowledge, or nothing. */
export type EventKind = 'push' | 'pull-request' | 'ping' | 'other';

export interface VerificationInput {
  readonly headers: Headers;
  /** The raw body: bytes, or text whose UTF-8 encoding is the bytes. */
  readonly body: Uint8Array | string;
  readonly decoded: DecodedBody;
  /** Every accepted secret of the repository (more than one during a rotation); may be empty. */
  readonly secrets: readonly string[];
  readonly nowSeconds: number;
}

export interface ProviderSpec {
  readonly name: Provider;
  /** Whether the headers are this host's. */
  detect(headers: Headers): boolean;
  /** The event name as the host sends it, e.g. `push` or `Tag Push Hook`. */
  event(headers: Headers): string | undefined;
  /**
   * The delivery id, equal across the host's retries and redeliveries. When the host signs an id, it is that
   * one: an id the signature does not cover could be changed to replay a delivery as new.
   */
  deliveryId(headers: Headers): string | undefined;
  kind(event: string, payload: JsonObject): EventKind;
  /** The repository the payload names, as a `repositoryKey`. */
  repository(payload: JsonObject): string | undefined;
  /** Never throws: a delivery it cannot check (no signature, no payload) is refused. */
  verify(input: VerificationInput): Verdict | Promise<Verdict>;
  /**
   * The ref updates of a `push` kind payload, one per ref (Bitbucket pushes several refs in one delivery);
   * throws `MalformedPush` naming the field for a payload of the wrong shape.
   */
  normalise(payload: JsonObject): readonly PushEvent[];
  /**
   * The pull request of a `pull-request` kind payload (`event` as sent), with why it plans nothing when it does
   * not; throws `MalformedPush` naming the field for a payload of the wrong shape.
   */
  pullRequest(event: string, payload: JsonObject): PullRequestEvent;
}
