import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errorMessage, Failure } from '../../core/errors.ts';
import type { SecretSource } from '../../core/ports.ts';

/** Secrets Manager errors that a retry cannot fix: the secret or the right to read it is missing. */
const CONFIGURATION_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidRequestException',
]);

/** The Secrets Manager error behind one of Powertools' wrappers. */
function awsErrorName(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (CONFIGURATION_ERRORS.has(e.name)) return e.name;
  }
  return undefined;
}

/** How long a secret value is served from memory before it is read again. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/**
 * Secrets from AWS Secrets Manager through Powertools' SecretsProvider, cached in memory for `maxAgeSeconds`: a
 * warm Lambda invocation within that time makes no Secrets Manager call. A changed secret value is therefore
 * seen up to `maxAgeSeconds` late (which the rotation procedure allows for).
 */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #provider: SecretsProvider;
  readonly #maxAge: number;

  constructor(options: { client?: SecretsManagerClient; maxAgeSeconds?: number } = {}) {
    this.#provider =
      options.client === undefined
        ? new SecretsProvider()
        : new SecretsProvider({ awsSdkV3Client: options.client });
    this.#maxAge = options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS;
  }

  async getSecret(name: string): Promise<string> {
    const value = await this.#provider.get(name, { maxAge: this.#maxAge }).catch((error: unknown) => {
      const refused = awsErrorName(error);
      if (refused !== undefined) {
        throw new Failure(
          'configuration',
          `secret ${name} cannot be read (${refused}): create it or grant access`,
        );
      }
      throw new Failure(
        'transient',
        `Secrets Manager is unavailable for secret ${name}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    });
    if (value === undefined) throw new Failure('configuration', `secret ${name} has no value`);
    // A binary secret (SecretBinary) is taken as UTF-8 text.
    return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  }
}
