// Names that the runtime (functions/) and the infrastructure (lib/) must agree on, in one place. No CDK and no
// runtime dependency here: both sides import it.

/** Environment variables the stack sets on the functions. */
export const ENV = {
  /** The validated configuration, inlined into each bundle at synth. */
  configJson: 'FERRY_CONFIG_JSON',
  /** The deploy queue (FIFO): the webhook and the reconciler send to it, the worker changes visibility on it. */
  deployQueueUrl: 'FERRY_QUEUE_URL',
  /** The check queue: the scheduler sends to it, the reconciler reads from it. */
  checkQueueUrl: 'FERRY_CHECK_QUEUE_URL',
  /** The state table. */
  tableName: 'FERRY_TABLE_NAME',
  /** The worker's log group: commit statuses link to its events of the deployment in the CloudWatch console. */
  workerLogGroup: 'FERRY_WORKER_LOG_GROUP',
  /** The SNS topic that the worker and the reconciler publish changes of a part's sync status to. */
  notificationTopicArn: 'FERRY_NOTIFICATION_TOPIC_ARN',
} as const;

/**
 * CloudWatch metrics the functions publish and the dashboard and alarms read. Powertools adds a `service`
 * dimension (the function) to every one. Dimensions stay few and bounded: the configured app and environment
 * names, a result or an action, a notifier; never a commit, an object or a deployment id.
 */
export const METRICS = {
  namespace: 'Ferry',
  /** Count of finished deployments, by `app`, `environment` and `result` (worker). */
  deployments: 'Deployments',
  /** Milliseconds per finished deployment, by `app` and `environment` (worker). */
  deployDuration: 'DeployDuration',
  /** Objects a deployment created, configured or re-created, and objects it pruned, by `app` and `environment`. */
  objectsApplied: 'ObjectsApplied',
  objectsPruned: 'ObjectsPruned',
  /** Count of checks, by `action`; drifted objects found by checks (reconciler). */
  checks: 'Checks',
  driftedObjects: 'DriftedObjects',
  /** Checks that left their part OutOfSync (reconciler, per invocation; no dimension but `service`). */
  outOfSync: 'OutOfSync',
  /** Of those, the longest a part has been OutOfSync, in seconds; 0 when none is (the alarm's gauge). */
  longestOutOfSync: 'LongestOutOfSync',
  /** Count of checks that failed (Git or cluster unreachable), by `app` and `environment` (reconciler). */
  checksFailed: 'ChecksFailed',
  /** Commit statuses that could not be posted after every try. */
  statusPostsFailed: 'StatusPostsFailed',
  /** Notifications that could not be sent after every try, by `notifier`. */
  notificationsFailed: 'NotificationsFailed',
  resultDimension: 'result',
  actionDimension: 'action',
  appDimension: 'app',
  environmentDimension: 'environment',
  notifierDimension: 'notifier',
  /** The dimension Powertools adds to every metric: the function's service name. */
  serviceDimension: 'service',
} as const;

/**
 * What the stack tells the CLI (`ferry … --stack NAME`): the outputs naming its table and queues, and the template
 * metadata key holding the configuration it was deployed with.
 */
export const STACK = {
  tableOutput: 'StateTableName',
  deployQueueOutput: 'DeployQueueUrl',
  deadLetterQueueOutput: 'DeployDeadLetterQueueUrl',
  configMetadata: 'Ferry::Configuration',
} as const;

/** Partition key prefixes of the state table. */
export const KEY_PREFIX = {
  delivery: 'DELIVERY#',
  part: 'PART#',
} as const;

/** Where the kubectl layer puts its binaries in a Lambda function. */
export const LAYER_TOOL_PATHS = { kubectl: '/opt/kubectl/kubectl', helm: '/opt/helm/helm' } as const;

/**
 * Jobs per worker invocation: one. A job may wait up to its environment's health timeout and a batch's jobs run
 * one after another, so several would not fit in one Lambda timeout. Parallelism comes from the message groups
 * (one per part). Nothing is lost by it: the worker follows the tracked ref, so the job behind a newer one of
 * its part finds the part current at once.
 */
export const WORKER_BATCH_SIZE = 1;

/** Receives before a deploy job goes to the dead-letter queue. */
export const DEPLOY_MAX_RECEIVE_COUNT = 3;
