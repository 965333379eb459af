// The webhook Lambda behind an API Gateway HTTP API (payload format 2.0): the Git hosts' front door. An adapter:
// it turns the event into a provider-neutral request, runs the intake and shapes the answer.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DynamoDbDeliveryLog } from '../adapters/aws/dynamodb-delivery-log.ts';
import { requiredEnvironment } from '../adapters/aws/environment.ts';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source.ts';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.ts';
import { awsStatusFeedback } from '../adapters/status/aws.ts';
import { readBuiltConfig } from '../core/built-config.ts';
import { Feedback } from '../core/feedback/feedback.ts';
import { createIntake, type Intake } from '../core/intake/intake.ts';
import { METRICS } from '../names.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ferry-webhook' });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: 'webhook' });

/**
 * How long the queued statuses still being posted may hold the answer: well within the 10 s that GitHub and
 * GitLab wait for one. A host slower than that misses its pending status; the worker's follow.
 */
const FEEDBACK_SETTLE_MS = 3_000;

/**
 * Built on the first invocation and kept for the container's life, whatever it answers: the configuration is
 * read once, and the clients and cached secrets serve every later delivery.
 */
let front: { readonly intake: Intake; readonly feedback: Feedback } | undefined;

function build(): { intake: Intake; feedback: Feedback } {
  // Written literally: the stack's bundler replaces `process.env.FERRY_CONFIG_JSON` with the configuration.
  const config = readBuiltConfig(process.env.FERRY_CONFIG_JSON);
  const secrets = new SecretsManagerSecretSource();
  // The intake tells commit statuses only (queued); changes of sync state come from the worker and reconciler.
  const feedback = new Feedback({ config, secrets, notifiers: [], ...awsStatusFeedback(logger, metrics) });
  const intake = createIntake({
    config,
    queue: new SqsJobQueue(requiredEnvironment('FERRY_QUEUE_URL')),
    deliveries: new DynamoDbDeliveryLog(requiredEnvironment('FERRY_TABLE_NAME')),
    secrets,
    logger,
    feedback,
  });
  return { intake, feedback };
}

/** Runs an intake on an API Gateway HTTP API event; exported for benchmarks with in-process ports. */
export async function handleEvent(
  run: Intake,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  // Text bodies are passed as they are (their UTF-8 encoding is what the host signed); form bodies arrive base64.
  const text = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(text, 'base64') : text;
  const response = await run({ headers: event.headers ?? {}, body });
  return {
    statusCode: response.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(response.body),
  };
}

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  try {
    front ??= build();
    // The intake answers every delivery, failures included; nothing it does throws.
    const answer = await handleEvent(front.intake, event);
    await front.feedback.settle(FEEDBACK_SETTLE_MS);
    return answer;
  } catch (error) {
    // The configuration or the environment could not be loaded (there is no intake to keep): the host retries,
    // the log says why.
    logger.error('webhook handler failed', { error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'internal error' }),
    };
  }
}
