// How the intake answers and logs: every answer is logged once, at a level that follows its status, and what a
// caller chose (refs, URLs, event names, parse errors) is cut to a sane length first.
import type { Provider } from '../model/provider.ts';
import type { WebhookResponse } from './request.ts';

/** Structured logging; Powertools' Logger fits. Attributes never hold a secret, a token or a signature. */
export interface IntakeLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Caller-chosen text longer than this is cut in answers and logs. */
export const MAX_ECHOED_LENGTH = 200;

/** Caller-chosen text as answers and logs show it: cut after `MAX_ECHOED_LENGTH` characters, saying so. */
export function clip(text: string): string {
  return text.length <= MAX_ECHOED_LENGTH
    ? text
    : `${text.slice(0, MAX_ECHOED_LENGTH)}… (${text.length} characters in all)`;
}

/** What every log line of a delivery carries. */
export interface DeliveryContext {
  readonly provider: Provider;
  readonly deliveryId: string;
  /** The event name as the host sent it, clipped. */
  readonly event: string;
}

export type Fields = Record<string, unknown>;

/** An answer before the delivery is known (no host, no id). */
export function refuse(logger: IntakeLogger, status: number, error: string, message: string, extra: Fields) {
  logger.warn(message, { status, ...extra });
  return { status, body: { error } };
}

/** Answers a delivery with `fields` (and its id), logging them, `extra` too, under `message`. */
export function answer(
  logger: IntakeLogger,
  context: DeliveryContext,
  status: number,
  fields: Fields,
  message: string,
  extra: Fields = {},
): WebhookResponse {
  const attributes = { ...context, status, ...fields, ...extra };
  if (status >= 500) logger.error(message, attributes);
  else if (status >= 400) logger.warn(message, attributes);
  else logger.info(message, attributes);
  return { status, body: { delivery: context.deliveryId, ...fields } };
}
