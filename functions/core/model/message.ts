import type { z } from 'zod';

/**
 * A parser of queue messages of one kind: the body's JSON checked against a schema built on first use (so a
 * bundle that never parses such messages leaves zod out); undefined for a body that is not one.
 */
export function messageParser<S extends z.ZodType>(
  schema: () => S,
): (body: string) => z.infer<S> | undefined {
  let built: S | undefined;
  return (body) => {
    try {
      built ??= schema();
      const result = built.safeParse(JSON.parse(body));
      return result.success ? result.data : undefined;
    } catch {
      return undefined;
    }
  };
}
