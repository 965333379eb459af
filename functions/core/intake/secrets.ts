// Webhook secrets as the intake reads them: each value parsed into the secrets it accepts, and a secret that
// cannot be read remembered for a short while, so that a missing secret or an unreachable store costs one read
// per UNREADABLE_SECRET_SECONDS, not one per delivery. Readable values are cached by the secret source itself
// (five minutes for Secrets Manager).
import { classify, errorMessage, type FailureClass } from '../errors.ts';
import type { SecretSource } from '../ports.ts';

/** A secret value that is neither a string nor a JSON array of strings. */
export class InvalidSecret extends Error {
  override name = 'InvalidSecret';
}

const parsedSecrets = new Map<string, readonly string[]>();

/**
 * The secrets a webhook secret value holds: the value itself, or every string of a JSON array of strings (all
 * accepted while one is rotated). Surrounding whitespace, such as a trailing newline from a file, is ignored.
 */
export function acceptedSecrets(value: string): readonly string[] {
  const cached = parsedSecrets.get(value);
  if (cached !== undefined) return cached;
  const trimmed = value.trim();
  let secrets: string[];
  if (trimmed.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch {
      throw new InvalidSecret('the value starts with "[" but is not a JSON array');
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
      throw new InvalidSecret('the value is not a non-empty JSON array of strings');
    }
    secrets = list.map((s: string) => s.trim());
  } else {
    secrets = [trimmed];
  }
  if (secrets.some((s) => s === '')) throw new InvalidSecret('the value holds an empty secret');
  if (parsedSecrets.size > 100) parsedSecrets.clear();
  parsedSecrets.set(value, secrets);
  return secrets;
}

/** How long a secret that could not be read is not asked for again. */
export const UNREADABLE_SECRET_SECONDS = 10;

export interface UnreadableSecret {
  readonly name: string;
  /** Configuration: the secret does not exist or holds no valid value; transient: the store failed. */
  readonly failureClass: FailureClass;
  /** What to tell the Git host: names no secret. */
  readonly answer: string;
  /** What to log: may name the secret, never holds a value. */
  readonly message: string;
}

export interface SecretsRead {
  /** Every secret that the readable values accept. */
  readonly secrets: readonly string[];
  readonly unreadable: readonly UnreadableSecret[];
}

/** Reads the named webhook secrets, all of them, whichever fail. */
export type SecretReader = (names: readonly string[]) => Promise<SecretsRead>;

function unreadable(name: string, error: unknown): UnreadableSecret {
  if (error instanceof InvalidSecret) {
    return {
      name,
      failureClass: 'configuration',
      answer: 'the webhook secret is not a string or a JSON array of strings',
      message: `secret ${name}: ${error.message}`,
    };
  }
  const failureClass = classify(error);
  return {
    name,
    failureClass,
    answer:
      failureClass === 'configuration'
        ? 'the webhook secret could not be read: it is missing or Ferry may not read it'
        : 'the webhook secret could not be read',
    message: errorMessage(error),
  };
}

export function createSecretReader(source: SecretSource, now: () => Date): SecretReader {
  const failures = new Map<string, { readonly failure: UnreadableSecret; readonly until: number }>();

  async function read(name: string): Promise<readonly string[] | UnreadableSecret> {
    const at = now().getTime();
    const remembered = failures.get(name);
    if (remembered !== undefined && at < remembered.until) return remembered.failure;
    try {
      const secrets = acceptedSecrets(await source.getSecret(name));
      failures.delete(name);
      return secrets;
    } catch (error) {
      const failure = unreadable(name, error);
      failures.set(name, { failure, until: at + UNREADABLE_SECRET_SECONDS * 1000 });
      return failure;
    }
  }

  return async (names) => {
    const results = await Promise.all(names.map(read));
    const secrets: string[] = [];
    const failed: UnreadableSecret[] = [];
    for (const result of results) {
      if ('failureClass' in result) failed.push(result);
      else secrets.push(...result);
    }
    return { secrets, unreadable: failed };
  };
}
