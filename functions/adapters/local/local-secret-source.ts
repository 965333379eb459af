import { readFile, stat } from 'node:fs/promises';
import { Failure } from '../../core/errors.ts';
import type { SecretSource } from '../../core/ports.ts';
import { invalidYamlAt, parseYaml } from '../../core/yaml.ts';

/**
 * The environment variable that holds a secret in the local mode: `FERRY_SECRET_` and the secret's name
 * upper-cased, every character other than a letter or digit turned into `_` (`ferry/shop/webhook` is
 * `FERRY_SECRET_FERRY_SHOP_WEBHOOK`).
 */
export function secretVariable(name: string): string {
  return `FERRY_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * A secrets file that cannot be used, a configuration failure: the message names the file and the problem,
 * never a value.
 */
export class SecretsFileError extends Failure {
  override name = 'SecretsFileError';
  constructor(message: string) {
    super('configuration', message);
  }
}

/**
 * Secrets of the local mode by name: from an environment variable (see `secretVariable`), else from a YAML
 * file mapping names to values. A value may be a list (the secrets accepted while a webhook secret is rotated),
 * passed on as the JSON array that Secrets Manager would hold. The file is read again when it changes. A secret
 * set nowhere is a configuration failure; errors name the secret and where it was looked for, never a value.
 */
export class LocalSecretSource implements SecretSource {
  readonly #file: string | undefined;
  readonly #env: NodeJS.ProcessEnv;
  #cache: { mtimeMs: number; values: Map<string, string> } | undefined;

  constructor(options: { readonly file?: string | undefined; readonly env?: NodeJS.ProcessEnv } = {}) {
    this.#file = options.file;
    this.#env = options.env ?? process.env;
  }

  async getSecret(name: string): Promise<string> {
    const variable = secretVariable(name);
    const fromEnvironment = this.#env[variable];
    if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
    if (this.#file !== undefined) {
      const value = (await this.#values()).get(name);
      if (value !== undefined) return value;
      throw new Failure(
        'configuration',
        `secret "${name}" is not set: set ${variable} or add "${name}" to ${this.#file}`,
      );
    }
    throw new Failure(
      'configuration',
      `secret "${name}" is not set: set ${variable}, or pass --secrets with a file that holds it`,
    );
  }

  /** Reads the file now, so that a broken one is reported at start-up rather than on the first webhook. */
  async check(): Promise<number> {
    return this.#file === undefined ? 0 : (await this.#values()).size;
  }

  async #values(): Promise<Map<string, string>> {
    const file = this.#file as string;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch (error) {
      throw new SecretsFileError(
        `cannot read the secrets file ${file}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
    if (this.#cache?.mtimeMs === mtimeMs) return this.#cache.values;
    const values = parseSecrets(await readFile(file, 'utf8'), file);
    this.#cache = { mtimeMs, values };
    return values;
  }
}

function parseSecrets(text: string, file: string): Map<string, string> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new SecretsFileError(invalidYamlAt(file, error));
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new SecretsFileError(`${file} must be a YAML map of secret names to values`);
  }
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(document)) {
    if (typeof value === 'string' || typeof value === 'number') values.set(name, String(value));
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      values.set(name, JSON.stringify(value));
    } else {
      throw new SecretsFileError(`${file}: the value of "${name}" must be a string or a list of strings`);
    }
  }
  return values;
}
