// Where the status page reads from: an install's operations reader (the local state directory, or an AWS
// stack's table and queues) and the configuration that names its parts. Every page reads it at the request.
import type { Config } from '../../core/config.ts';
import type { OperationsReader } from '../../core/ports.ts';

export interface StatusPageSource {
  readonly reader: OperationsReader;
  /** Lists the configured parts never deployed; without it, the page shows the parts the store lists. */
  readonly config?: Config | undefined;
}

/** Deployments a part's page lists, each with its objects. */
export const HISTORY_LENGTH = 20;

/** Checks a part's page lists. */
export const CHECKS_LISTED = 10;
