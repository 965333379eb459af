import { z } from 'zod';
import { messageParser } from './message.ts';
import type { PartKey } from './part.ts';

/** A request to check one environment part: the message on the check queue. */
export interface EnvironmentCheck extends PartKey {
  readonly tickId: string;
  readonly scheduledAt: string;
}

/** The id of a check: one per tick and part, the same when the check's message is delivered again. */
export const checkIdOf = (check: EnvironmentCheck): string =>
  `${check.tickId}.${check.app}.${check.environment}.${check.part}`;

const checkSchema = () =>
  z.object({
    app: z.string().min(1),
    environment: z.string().min(1),
    part: z.enum(['app', 'config']),
    tickId: z.string().min(1),
    scheduledAt: z.string().min(1),
  });

/** A check from a queue message's body, or undefined when the body is not one. */
export const parseEnvironmentCheck: (body: string) => EnvironmentCheck | undefined =
  /* @__PURE__ */ messageParser(checkSchema);
