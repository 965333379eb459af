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
} as const;

/** CloudWatch metrics the functions publish and the dashboard and alarms read. */
export const METRICS = {
  namespace: 'Ferry',
  /** Count of finished deployments, by `result` and `service`. */
  deployments: 'Deployments',
  deployDuration: 'DeployDuration',
  /** Count of checks, by `action`; drifted objects found by checks. */
  checks: 'Checks',
  driftedObjects: 'DriftedObjects',
  resultDimension: 'result',
  actionDimension: 'action',
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
