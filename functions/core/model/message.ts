// Parsers of queue messages, written small: a schema library would be the largest part of the functions that
// read the queues (zod is 440 KB of a bundle), and a message is either one of ours or refused whole.

/** A value of type T read from JSON, or undefined when the value is not one. */
export type Parser<T> = (value: unknown) => T | undefined;

/** A non-empty string, or one that matches `pattern`. */
export const text =
  (pattern?: RegExp): Parser<string> =>
  (value) =>
    typeof value === 'string' && (pattern === undefined ? value !== '' : pattern.test(value))
      ? value
      : undefined;

/** Any string, the empty one included. */
export const anyText: Parser<string> = (value) => (typeof value === 'string' ? value : undefined);

/** One of the given strings. */
export const oneOf =
  <const V extends string>(values: readonly V[]): Parser<V> =>
  (value) =>
    values.includes(value as V) ? (value as V) : undefined;

export const flag: Parser<boolean> = (value) => (typeof value === 'boolean' ? value : undefined);

/** A whole number from 0. */
export const count: Parser<number> = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;

/** An object with every field its parser accepts; fields of no parser are left out. */
export function object<T>(fields: { readonly [K in keyof T]-?: Parser<T[K]> }): Parser<T> {
  return (value) => {
    if (typeof value !== 'object' || value === null) return undefined;
    const parsed: Partial<T> = {};
    for (const key in fields) {
      const field = fields[key]((value as Record<PropertyKey, unknown>)[key]);
      if (field === undefined) return undefined;
      parsed[key] = field;
    }
    return parsed as T;
  };
}

/** The first of the parsers that accepts the value (a union, told apart by a field such as `kind`). */
export const either =
  <T>(...parsers: readonly Parser<T>[]): Parser<T> =>
  (value) => {
    for (const parse of parsers) {
      const parsed = parse(value);
      if (parsed !== undefined) return parsed;
    }
    return undefined;
  };

/** A queue message's parser: the body's JSON read by `parse`; undefined for a body that is none. */
export function messageParser<T>(parse: Parser<T>): (body: string) => T | undefined {
  return (body) => {
    try {
      return parse(JSON.parse(body));
    } catch {
      return undefined;
    }
  };
}
