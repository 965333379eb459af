import type { Config } from './config.ts';

/**
 * The configuration as the stack builds it into each function: validated at synth by `parseConfig` (defaults
 * applied) and inlined as the JSON of `process.env.FERRY_CONFIG_JSON`. The functions read it without the
 * schema: zod (with its locales) and a YAML parser would be most of a bundle and of its cold start (90% of the
 * webhook's and the scheduler's). A raw configuration, without the defaults, is refused rather than half-read.
 */
export function readBuiltConfig(json: string | undefined): Config {
  if (json === undefined || json === '') throw new Error('FERRY_CONFIG_JSON is not set');
  const config = JSON.parse(json) as Partial<Config> | null;
  const validated =
    typeof config?.settings?.maxWebhookBodyBytes === 'number' &&
    typeof config.settings.deliveryRetentionHours === 'number' &&
    Array.isArray(config.repositories) &&
    Array.isArray(config.apps) &&
    config.apps.every((app) =>
      app.environments.every(
        (env) =>
          typeof env.autoSync === 'boolean' &&
          typeof env.suspend === 'boolean' &&
          Array.isArray(env.trigger.branches) &&
          Array.isArray(env.trigger.tags) &&
          Array.isArray(env.trigger.paths),
      ),
    );
  if (!validated) {
    throw new Error('FERRY_CONFIG_JSON is not a validated configuration (the output of parseConfig)');
  }
  return config as Config;
}
