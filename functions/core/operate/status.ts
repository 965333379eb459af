// Operating an install: the status report of its parts and queue, read through the operations port, the same
// for the local state directory and an AWS stack.
import type { Config } from '../config.ts';
import { configuredParts, findPart, type PartKey, partId } from '../model/part.ts';
import { compareParts, partStatus, type StatusReport } from '../model/status.ts';
import type { OperationsReader } from '../ports.ts';

/** Which parts a report covers: all, one app's, or one environment's. */
export interface PartFilter {
  readonly app?: string;
  readonly environment?: string;
}

export interface StatusOptions {
  readonly filter?: PartFilter;
  /** Deployments listed per part, newest first. */
  readonly deploymentsPerPart?: number;
}

export const matches = (key: PartKey, filter: PartFilter = {}): boolean =>
  (filter.app === undefined || key.app === filter.app) &&
  (filter.environment === undefined || key.environment === filter.environment);

/**
 * The parts to report, sorted: those of `config` (when given) and those the store lists. Without a
 * configuration, each part's `configured` is undefined.
 */
export async function reportedParts(
  reader: OperationsReader,
  config: Config | undefined,
  filter?: PartFilter,
): Promise<PartKey[]> {
  const configured = config === undefined ? [] : configuredParts(config);
  const keys = new Map<string, PartKey>();
  for (const key of [...configured, ...(await reader.parts(configured))]) keys.set(partId(key), key);
  return [...keys.values()].filter((key) => matches(key, filter)).sort(compareParts);
}

/** The status of every part and of the deploy queue. */
export async function collectStatus(
  reader: OperationsReader,
  config?: Config,
  options: StatusOptions = {},
): Promise<StatusReport> {
  const keys = await reportedParts(reader, config, options.filter);
  const [environments, queue, deadLetters] = await Promise.all([
    Promise.all(
      keys.map(async (key) => {
        const found = config === undefined ? undefined : findPart(config, key);
        const [snapshot, history] = await Promise.all([
          reader.part(key),
          reader.history(key, options.deploymentsPerPart ?? 5),
        ]);
        return partStatus(key, snapshot, history, {
          configured: config === undefined ? undefined : found !== undefined,
          suspended: found?.environment.suspend ?? false,
        });
      }),
    ),
    reader.queue(),
    reader.deadLetters(),
  ]);
  return { generatedAt: new Date().toISOString(), environments, queue: { ...queue, deadLetters } };
}
