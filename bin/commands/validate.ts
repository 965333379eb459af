// `ferry validate`: a configuration file checked, summarised, and what `ferry serve` would miss warned about.
import { existsSync } from 'node:fs';
import { parseSchedule } from '../../functions/adapters/local/reconcile-scheduler.ts';
import type { Config, EnvironmentConfig } from '../../functions/core/config.ts';
import { errorMessage } from '../../functions/core/errors.ts';
import { configuredParts } from '../../functions/core/model/part.ts';
import type { SecretSource } from '../../functions/core/ports.ts';
import { CONFIG_HELP, defaultConfigPath, out, parse, printHelp, usage } from '../cli.ts';
import { openSecrets, readConfig } from '../inputs.ts';

export const help = usage(
  'ferry validate [options]',
  `Validates a configuration file: prints OK and a summary, or each invalid field (exit code 1). Warns about
what \`ferry serve\` would miss: secrets that are not set, kubeconfig files that do not exist, a schedule
whose times have all passed.`,
  [
    CONFIG_HELP,
    [
      '--secrets <file>',
      'YAML map of secret names to values, checked with the FERRY_SECRET_<NAME> variables',
    ],
  ],
);

export async function run(args: readonly string[]): Promise<number> {
  const { values } = parse('validate', args, {
    config: { type: 'string', short: 'c' },
    secrets: { type: 'string' },
  });
  if (values.help) return printHelp(help);
  const path = values.config ?? defaultConfigPath();
  const config = await readConfig(path);
  const secrets = await openSecrets(values.secrets);
  out(`OK: ${path}`);
  for (const line of summary(config)) out(`  ${line}`);
  for (const warning of await warnings(config, secrets)) out(`warning: ${warning}`);
  return 0;
}

const plural = (count: number, word: string, words = `${word}s`) => `${count} ${count === 1 ? word : words}`;

function summary(config: Config): string[] {
  const environments = config.apps.flatMap((app) => app.environments);
  return [
    `${plural(config.repositories.length, 'repository', 'repositories')}, ${plural(config.clusters.length, 'cluster')}, ${plural(config.apps.length, 'app')}, ${plural(environments.length, 'environment')} (${plural(configuredParts(config).length, 'deployable part')})`,
    ...config.apps.flatMap((app) => [
      `${app.name} (repository ${app.repository}, path ${app.path}):`,
      ...app.environments.map((environment) => `  ${describeEnvironment(environment)}`),
    ]),
    `reconcile: ${config.settings.reconcileSchedule}, jitter ${config.settings.reconcileJitterSeconds}s`,
  ];
}

/** Where an environment deploys, what it follows (refs, or another environment) and what it waits for. */
function describeEnvironment(env: EnvironmentConfig): string {
  const { follow } = env;
  const what = [
    `cluster ${env.cluster}`,
    `namespace ${env.namespace}`,
    env.trigger.branches.length > 0 ? `branches ${env.trigger.branches.join(', ')}` : '',
    env.trigger.tags.length > 0 ? `tags ${env.trigger.tags.join(', ')}` : '',
    follow === undefined
      ? ''
      : `follows ${follow.environment}${follow.healthyFor === '0s' ? '' : ` once healthy for ${follow.healthyFor}`}`,
    (env.dependsOn ?? []).length > 0
      ? `depends on ${(env.dependsOn ?? []).map((d) => `${d.app}/${d.environment}`).join(', ')}`
      : '',
  ].filter((w) => w !== '');
  const flags = [
    env.suspend ? 'suspended' : '',
    env.autoSync ? '' : 'autoSync off',
    env.selfHeal ? 'selfHeal' : '',
    env.config === undefined ? '' : `config ${env.config.path}`,
  ].filter((f) => f !== '');
  return `${env.name}: ${what.join(', ')}${flags.length === 0 ? '' : ` (${flags.join(', ')})`}`;
}

/** What `ferry serve` would refuse or miss: the schedule, the clusters, and each secret that is not set. */
async function warnings(config: Config, secrets: SecretSource): Promise<string[]> {
  const found: string[] = [];
  // The configuration's own check refused every schedule the local mode cannot run; one may have no time left.
  const { warning } = parseSchedule(config.settings.reconcileSchedule);
  if (warning !== undefined) found.push(warning);
  for (const cluster of config.clusters) {
    if (cluster.type === 'eks') {
      found.push(`cluster ${cluster.name} is an EKS cluster: in local mode it needs AWS credentials`);
    } else if (cluster.kubeconfig !== undefined && !existsSync(cluster.kubeconfig)) {
      found.push(`cluster ${cluster.name}: kubeconfig ${cluster.kubeconfig} does not exist`);
    }
  }
  const names = new Set(
    config.repositories.flatMap((r) => [
      r.webhookSecret,
      ...(r.tokenSecret === undefined ? [] : [r.tokenSecret]),
    ]),
  );
  for (const name of names) {
    // Only whether it is set: its value is never printed.
    await secrets.getSecret(name).catch((error: unknown) => found.push(errorMessage(error)));
  }
  return found;
}
