import { z } from 'zod';
import type { PartKey } from './part.ts';

/** A request to check one environment part: the message on the check queue. */
export interface EnvironmentCheck extends PartKey {
  readonly tickId: string;
  readonly scheduledAt: string;
}

/** The id of a check: one per tick and part, the same when the check's message is delivered again. */
export const checkIdOf = (check: EnvironmentCheck): string =>
  `${check.tickId}.${check.app}.${check.environment}.${check.part}`;

// Built on first use, so that a bundle importing only the type (the scheduler) leaves zod out.
const checkSchema = () =>
  z.object({
    app: z.string().min(1),
    environment: z.string().min(1),
    part: z.enum(['app', 'config']),
    tickId: z.string().min(1),
    scheduledAt: z.string().min(1),
  });

let schema: ReturnType<typeof checkSchema> | undefined;

/** A check from a queue message's body, or undefined when the body is not one. */
export function parseEnvironmentCheck(body: string): EnvironmentCheck | undefined {
  try {
    schema ??= checkSchema();
    const result = schema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
