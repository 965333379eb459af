// Changes of a part's sync status published to an SNS topic: the event JSON as the message, and attributes that
// subscriptions filter on (app, environment, part, status, event). A FIFO topic gets one message group per part
// and the delivery id as its deduplication id.
import type { MessageAttributeValue, SNSClient } from '@aws-sdk/client-sns';
import { Failure } from '../../core/errors.ts';
import type { SyncChange } from '../../core/model/feedback.ts';
import { partId } from '../../core/model/part.ts';
import type { Notifier } from '../../core/ports.ts';
import { ENV } from '../../names.ts';
import { clip, headline, type NotificationMessage, notificationOf } from './event.ts';
import { NOTIFY_TIMEOUT_MS } from './http.ts';

/** The message attributes of every notification, for subscription filter policies. */
export const SNS_ATTRIBUTES = ['app', 'environment', 'part', 'status', 'event'] as const;

/** SNS's limit on a subject: 100 printable ASCII characters. */
const SUBJECT_LENGTH = 100;

/** The SNS notifier of a function that the stack gave a topic (`FERRY_NOTIFICATION_TOPIC_ARN`); else none. */
export function topicNotifiers(env: NodeJS.ProcessEnv = process.env): Notifier[] {
  const topicArn = env[ENV.notificationTopicArn];
  return topicArn === undefined || topicArn === '' ? [] : [new SnsNotifier(topicArn)];
}

/** The SNS client is loaded with the first notification: a function without a topic never loads it. */
const sdk = () => import('@aws-sdk/client-sns');

export class SnsNotifier implements Notifier {
  readonly name = 'sns';
  readonly #topicArn: string;
  #sns: SNSClient | undefined;

  constructor(topicArn: string, sns?: SNSClient) {
    this.#topicArn = topicArn;
    this.#sns = sns;
  }

  async #client(): Promise<SNSClient> {
    const { SNSClient } = await sdk();
    this.#sns ??= new SNSClient({
      requestHandler: { connectionTimeout: 2000, requestTimeout: NOTIFY_TIMEOUT_MS },
    });
    return this.#sns;
  }

  async notify(change: SyncChange): Promise<void> {
    const message = notificationOf(change);
    if (message === undefined) return;
    const fifo = this.#topicArn.endsWith('.fifo')
      ? { MessageGroupId: partId(change.key), MessageDeduplicationId: message.id }
      : {};
    try {
      const [sns, { PublishCommand }] = await Promise.all([this.#client(), sdk()]);
      await sns.send(
        new PublishCommand({
          TopicArn: this.#topicArn,
          Subject: clip(`Ferry: ${headline(message)}`.replace(/[^\x20-\x7e]/g, '?'), SUBJECT_LENGTH),
          Message: JSON.stringify(message),
          MessageAttributes: attributesOf(message),
          ...fifo,
        }),
      );
    } catch (error) {
      throw snsFailure(error);
    }
  }
}

function attributesOf(message: NotificationMessage): Record<string, MessageAttributeValue> {
  const values: Record<(typeof SNS_ATTRIBUTES)[number], string> = {
    app: message.app,
    environment: message.environment,
    part: message.part,
    status: message.to,
    event: message.event,
  };
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

/**
 * SNS's refusal as a `Failure`: one the SDK would retry (throttling, 5xx, a timeout) is transient; any other
 * client error (no such topic, no permission, a KMS key that may not be used) is the configuration's.
 */
function snsFailure(error: unknown): Failure {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (e.$fault === 'client' && e.$retryable === undefined)
    return new Failure('configuration', `sns: the topic refused the message (${name})`);
  return new Failure('transient', `sns: publish failed (${name})`);
}
