// The user's configuration as the CDK app sees it: validated with the runtime's schema, then checked for what
// an AWS installation needs on top of it.
import { existsSync } from 'node:fs';
import { type ClusterConfig, type Config, ConfigError, loadConfigFile } from '../functions/core/config.ts';

export type EksClusterConfig = Extract<ClusterConfig, { type: 'eks' }>;

export const DEFAULT_CONFIG_FILE = 'ferry.config.yaml';

/**
 * Reads, validates and checks the configuration file for an AWS installation. Throws `ConfigError`, whose
 * message names each offending field, for a missing file, an invalid one, or one that AWS cannot run.
 */
export async function loadDeploymentConfig(path: string): Promise<Config> {
  if (!existsSync(path)) {
    throw new ConfigError(
      `no configuration file at ${path}: copy ferry.config.example.yaml to ${DEFAULT_CONFIG_FILE} and edit it, ` +
        'or name another file with `-c config=<path>`',
    );
  }
  const config = await loadConfigFile(path);
  assertDeployable(config, path);
  return config;
}

/**
 * Refuses what the schema accepts but an AWS installation cannot run: clusters of `type: kubeconfig` belong to
 * the local mode, and a Lambda function has no kubeconfig file to read, so every deployment to one would fail
 * at run time. Refusing at synth names the field before anything is deployed.
 */
export function assertDeployable(config: Config, source = 'configuration'): void {
  const lines: string[] = [];
  config.clusters.forEach((cluster, index) => {
    if (cluster.type !== 'eks') {
      lines.push(
        `  clusters[${index}].type: "${cluster.type}" clusters are for the local mode; ` +
          'an AWS installation deploys to EKS clusters only (type: eks)',
      );
    }
  });
  if (lines.length > 0) throw new ConfigError(`invalid ${source}:\n${lines.join('\n')}`);
}

export function eksClusters(config: Config): EksClusterConfig[] {
  return config.clusters.filter((cluster): cluster is EksClusterConfig => cluster.type === 'eks');
}

/** Distinct secret names, sorted, so that the template does not change with the order of the repositories. */
export function webhookSecretNames(config: Config): string[] {
  return [...new Set(config.repositories.map((r) => r.webhookSecret))].sort();
}

export function tokenSecretNames(config: Config): string[] {
  return [
    ...new Set(config.repositories.flatMap((r) => (r.tokenSecret === undefined ? [] : [r.tokenSecret]))),
  ].sort();
}

/** The longest health wait of any environment, in seconds. */
export function maxHealthTimeoutSeconds(config: Config): number {
  return Math.max(
    0,
    ...config.apps.flatMap((app) => app.environments.map((env) => env.healthTimeoutSeconds)),
  );
}

/** The secrets of the outbound webhooks: Slack URLs and JSON webhooks' signing keys. */
export function notificationSecretNames(config: Config): string[] {
  return [
    ...new Set(
      config.notifications.webhooks.map((w) => (w.type === 'slack' ? w.urlSecret : w.signingSecret)),
    ),
  ].sort();
}

/** The secrets of the tokens that post commit statuses: `statusTokenSecret`, else the read token. */
export function statusTokenSecretNames(config: Config): string[] {
  return [
    ...new Set(
      config.repositories.flatMap((r) => {
        const name = r.statusTokenSecret ?? r.tokenSecret;
        return name === undefined ? [] : [name];
      }),
    ),
  ].sort();
}

/** Every repository token the worker and the reconciler read: to fetch, and to post commit statuses. */
export function repositoryTokenSecretNames(config: Config): string[] {
  return [...new Set([...tokenSecretNames(config), ...statusTokenSecretNames(config)])].sort();
}
