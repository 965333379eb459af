// Outbound webhooks told of changes of a part's sync status, configured in `notifications.webhooks`, in AWS and
// in the local mode alike: a Slack-compatible incoming webhook (a short text to its secret URL) and a JSON
// webhook (the event as the body, signed with HMAC-SHA256 in `X-Ferry-Signature`).
import { createHmac } from 'node:crypto';
import type { Config, NotificationWebhookConfig } from '../../core/config.ts';
import { Failure } from '../../core/errors.ts';
import type { SyncChange } from '../../core/model/feedback.ts';
import type { Notifier, SecretSource } from '../../core/ports.ts';
import { firstLine, headline, type NotificationMessage, notificationOf } from './event.ts';
import { postWebhook } from './http.ts';

/** The headers of a JSON webhook's request. */
export const WEBHOOK_HEADERS = {
  /** `sha256=` and the hex HMAC-SHA256 of the raw body under the signing secret. */
  signature: 'x-ferry-signature',
  /** The event's id: the same on every try of one change. */
  delivery: 'x-ferry-delivery',
  /** The event's kind: failed, out-of-sync, recovered, synced. */
  event: 'x-ferry-event',
} as const;

export interface WebhookOptions {
  /** Bound of one request (default `NOTIFY_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
}

/** The notifiers of the configured webhooks. */
export function webhookNotifiers(
  config: Config,
  secrets: SecretSource,
  options: WebhookOptions = {},
): Notifier[] {
  return config.notifications.webhooks.map((webhook) =>
    webhook.type === 'slack'
      ? new SlackNotifier(webhook, secrets, options)
      : new JsonWebhookNotifier(webhook, secrets, options),
  );
}

type Filter = Pick<NotificationWebhookConfig, 'apps' | 'environments' | 'events'>;

/** Whether a webhook's filter lets the message through; an absent list lets everything through. */
function accepts(filter: Filter, message: NotificationMessage): boolean {
  return (
    (filter.apps?.includes(message.app) ?? true) &&
    (filter.environments?.includes(message.environment) ?? true) &&
    (filter.events?.includes(message.event) ?? true)
  );
}

/** `sha256=<hex>`: the HMAC-SHA256 of the body under the key, as `X-Ferry-Signature` carries it. */
export function signatureOf(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/**
 * A notifier of one configured webhook: it filters the changes the webhook asks for and posts each as its
 * subclass shapes it.
 */
abstract class WebhookNotifier<W extends NotificationWebhookConfig> implements Notifier {
  readonly name: string;
  protected readonly webhook: W;
  protected readonly secrets: SecretSource;
  protected readonly options: WebhookOptions;

  constructor(webhook: W, secrets: SecretSource, options: WebhookOptions) {
    this.name = `${webhook.type}/${webhook.name}`;
    this.webhook = webhook;
    this.secrets = secrets;
    this.options = options;
  }

  async notify(change: SyncChange): Promise<void> {
    const message = notificationOf(change);
    if (message !== undefined && accepts(this.webhook, message)) await this.post(message);
  }

  protected abstract post(message: NotificationMessage): Promise<void>;
}

type JsonWebhookConfig = Extract<NotificationWebhookConfig, { type: 'json' }>;

/** The event as JSON, signed, with its delivery id: for receivers of one's own. */
export class JsonWebhookNotifier extends WebhookNotifier<JsonWebhookConfig> {
  constructor(webhook: JsonWebhookConfig, secrets: SecretSource, options: WebhookOptions = {}) {
    super(webhook, secrets, options);
  }

  protected async post(message: NotificationMessage): Promise<void> {
    const key = await this.secrets.getSecret(this.webhook.signingSecret);
    const body = JSON.stringify(message);
    await postWebhook({
      name: this.name,
      url: this.webhook.url,
      showHost: true,
      headers: {
        [WEBHOOK_HEADERS.signature]: signatureOf(key, body),
        [WEBHOOK_HEADERS.delivery]: message.id,
        [WEBHOOK_HEADERS.event]: message.event,
      },
      body,
      ...this.options,
    });
  }
}

type SlackWebhookConfig = Extract<NotificationWebhookConfig, { type: 'slack' }>;

const EMOJI: Record<NotificationMessage['event'], string> = {
  failed: ':x:',
  'out-of-sync': ':warning:',
  recovered: ':white_check_mark:',
  synced: ':white_check_mark:',
};

/** Slack's text escapes: `&`, `<` and `>` would otherwise start entities and links. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two short lines: what happened to which part, and why. */
export function slackText(message: NotificationMessage): string {
  const why = firstLine(message.message, 300);
  return escapeSlack(`${EMOJI[message.event]} Ferry: ${headline(message)}${why === '' ? '' : `\n${why}`}`);
}

/** A short text to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's `/slack`). */
export class SlackNotifier extends WebhookNotifier<SlackWebhookConfig> {
  constructor(webhook: SlackWebhookConfig, secrets: SecretSource, options: WebhookOptions = {}) {
    super(webhook, secrets, options);
  }

  protected async post(message: NotificationMessage): Promise<void> {
    const url = (await this.secrets.getSecret(this.webhook.urlSecret)).trim();
    if (!/^https?:\/\/[^/\s]+/.test(url) || !URL.canParse(url)) {
      throw new Failure(
        'configuration',
        `${this.name}: secret ${this.webhook.urlSecret} does not hold an http(s) URL`,
      );
    }
    await postWebhook({
      name: this.name,
      url,
      // The incoming webhook's URL is its credential: no failure names it.
      showHost: false,
      headers: {},
      body: JSON.stringify({ text: slackText(message) }),
      ...this.options,
    });
  }
}
