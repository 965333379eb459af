import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../../core/ports.ts';

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
    const value = await this.#provider.get(name, { maxAge: this.#maxAge });
    if (value === undefined) throw new Error(`secret ${name} has no value`);
    // A binary secret (SecretBinary) is taken as UTF-8 text.
    return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  }
}
