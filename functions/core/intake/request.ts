// The webhook request and answer as the intake sees them: no HTTP server, no Lambda event, just header values,
// the body's bytes and a status with a JSON body.
import { isUtf8 } from 'node:buffer';
import { errorMessage } from '../errors.ts';

export interface WebhookRequest {
  /** Header values by lower-cased name; a repeated header's values joined by `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * The body exactly as the Git host sent it: signatures are computed over these bytes. An adapter that received
   * the body as text (API Gateway passes non-binary bodies as UTF-8 text) may pass that text, whose UTF-8
   * encoding is the bytes; this spares copying 25 KB twice per delivery.
   */
  readonly body: Uint8Array | string;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export type BodyFormat = 'json' | 'form';

/** The body format named by a `Content-Type` header, or undefined for one the intake does not take. */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

export interface DecodedBody {
  /** The body as text. */
  readonly text: string;
  /** The JSON text of the payload: the body itself, or the `payload` field of a form body (none without one). */
  readonly payloadText: string | undefined;
}

export class MalformedBody extends Error {
  override name = 'MalformedBody';
}

/**
 * Decodes a JSON body, or a form body with a `payload` field (GitHub's and Gitea's form deliveries). JSON must be
 * UTF-8 (RFC 8259) and form bodies are ASCII, so a body that is not UTF-8 is malformed; this also makes the text
 * re-encode to exactly the received bytes, which the signature checks rely on.
 */
export function decodeBody(body: Uint8Array | string, format: BodyFormat): DecodedBody {
  if (body.length === 0) throw new MalformedBody('the body is empty');
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    if (!isUtf8(body)) throw new MalformedBody('the body is not UTF-8');
    text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  }
  if (format === 'json') return { text, payloadText: text };
  return { text, payloadText: new URLSearchParams(text).get('payload') ?? undefined };
}

/** Parses the payload, which must be a JSON object. */
export function parsePayload(payloadText: string | undefined): Readonly<Record<string, unknown>> {
  if (payloadText === undefined) throw new MalformedBody('the form has no payload field');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch (error) {
    throw new MalformedBody(`the payload is not JSON: ${errorMessage(error)}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedBody('the payload is not a JSON object');
  }
  return payload as Record<string, unknown>;
}

/**
 * Whether a body is larger than `limit` bytes. A text body's UTF-8 size is between its length and three times
 * its length, so only bodies in between are measured (counting 25 KB costs as much as a tenth of parsing it).
 */
export function bodyOver(body: Uint8Array | string, limit: number): number | undefined {
  if (typeof body !== 'string') return body.byteLength > limit ? body.byteLength : undefined;
  if (body.length * 3 <= limit) return undefined;
  const bytes = body.length > limit ? body.length : Buffer.byteLength(body, 'utf8');
  return bytes > limit ? bytes : undefined;
}
