// One line per event on stdout, as JSON (for a log collector) or as plain text (for a terminal). Callers pass
// no secret in attributes (the core's contract); errors are written as their name and message only.

export interface Logger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export type LogFormat = 'json' | 'text';

type Level = 'info' | 'warn' | 'error';

/** Errors as `{ name, message }`: no stack, and no extra fields an SDK may have hung on them (requests). */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value, replacer) ?? 'undefined';
  } catch {
    return '"[unserialisable]"';
  }
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return stringify(value);
}

export function createLogger(
  options: { readonly format?: LogFormat; readonly write?: (line: string) => void } = {},
): Logger {
  const format = options.format ?? 'json';
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (level: Level, message: string, attributes: Record<string, unknown> = {}) => {
    const time = new Date().toISOString();
    if (format === 'json') {
      // An attribute named like a field of the line keeps its value under another name.
      const fields: Record<string, unknown> = { time, level, message };
      for (const [key, value] of Object.entries(attributes)) fields[key in fields ? `${key}_` : key] = value;
      write(stringify(fields));
      return;
    }
    const fields = Object.entries(attributes)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${textValue(value)}`);
    write([time, level.toUpperCase().padEnd(5), message, ...fields].join(' '));
  };
  return {
    info: (message, attributes) => log('info', message, attributes),
    warn: (message, attributes) => log('warn', message, attributes),
    error: (message, attributes) => log('error', message, attributes),
  };
}
