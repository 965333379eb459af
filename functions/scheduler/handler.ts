// The scheduler Lambda: an EventBridge tick in, one delayed check per environment part out. It reaches no
// cluster and no Git host, so a thousand environments never run in one invocation.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { requiredEnvironment } from '../adapters/aws/environment.ts';
import { SqsCheckQueue } from '../adapters/aws/sqs-check-queue.ts';
import { readBuiltConfig } from '../core/built-config.ts';
import type { Config } from '../core/config.ts';
import { planChecks } from '../core/reconcile/schedule.ts';
import { ENV } from '../names.ts';

const logger = new Logger({ serviceName: 'ferry-scheduler' });
let config: Config | undefined;

export const handler = async (event: ScheduledEvent, context: Context): Promise<{ checks: number }> => {
  // Written literally: the stack's bundler replaces `process.env.FERRY_CONFIG_JSON` with the configuration.
  config ??= readBuiltConfig(process.env.FERRY_CONFIG_JSON);
  const queueUrl = requiredEnvironment(ENV.checkQueueUrl);
  const checks = planChecks(config, event.id ?? context.awsRequestId, new Date(event.time ?? Date.now()));
  await new SqsCheckQueue(queueUrl).enqueueChecks(checks);
  logger.info('checks scheduled', { tick: event.id, checks: checks.length });
  return { checks: checks.length };
};
