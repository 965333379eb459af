import { messageParser, object, oneOf, text } from './message.ts';
import type { PartKey } from './part.ts';

/** A request to check one environment part: the message on the check queue. */
export interface EnvironmentCheck extends PartKey {
  readonly tickId: string;
  readonly scheduledAt: string;
}

/** The id of a check: one per tick and part, the same when the check's message is delivered again. */
export const checkIdOf = (check: EnvironmentCheck): string =>
  `${check.tickId}.${check.app}.${check.environment}.${check.part}`;

/** A check from a queue message's body, or undefined when the body is not one. */
export const parseEnvironmentCheck: (body: string) => EnvironmentCheck | undefined = messageParser(
  object<EnvironmentCheck>({
    app: text(),
    environment: text(),
    part: oneOf(['app', 'config']),
    tickId: text(),
    scheduledAt: text(),
  }),
);
