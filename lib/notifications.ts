// Notifications: the SNS topic that the worker and the reconciler publish a part's changes of sync status to
// (created here, or the user's own), and the secrets of the configured outbound webhooks.
import { Stack } from 'aws-cdk-lib';
import { type CfnTopic, type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config.ts';
import { ENV } from '../functions/names.ts';
import { notificationSecretNames } from './deployment-config.ts';
import type { FerryFunction } from './ferry-function.ts';
import { grantSecretValues } from './permissions.ts';

/** The AWS managed key of SNS in every account and region. */
export const SNS_MANAGED_KEY = 'alias/aws/sns';

export interface NotificationsProps {
  readonly config: Config;
  /** An existing topic to publish to; none: the stack creates one. */
  readonly topicArn?: string;
  /** The functions that tell changes of state: the worker and the reconciler. */
  readonly publishers: readonly FerryFunction[];
}

export class Notifications extends Construct {
  readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic =
      props.topicArn === undefined ? this.#createTopic() : Topic.fromTopicArn(this, 'Topic', props.topicArn);
    const secrets = notificationSecretNames(props.config);
    for (const publisher of props.publishers) {
      this.topic.grantPublish(publisher.role);
      publisher.function.addEnvironment(ENV.notificationTopicArn, this.topic.topicArn);
      grantSecretValues(publisher.role, Stack.of(this), secrets);
    }
  }

  /**
   * A topic encrypted at rest with the account's AWS managed key for SNS: no key to pay for, and none to grant
   * on, since that key's own policy lets the account's principals use it through SNS. Set on the resource, as a
   * `masterKey` would add KMS statements on every key to the publishers' roles.
   */
  #createTopic(): Topic {
    const topic = new Topic(this, 'Topic', { displayName: 'Ferry notifications', enforceSSL: true });
    (topic.node.defaultChild as CfnTopic).kmsMasterKeyId = SNS_MANAGED_KEY;
    return topic;
  }
}
