// An environment part: one deployable unit of an app environment, with one key and one policy.
import type { AppConfig, ClusterConfig, Config, EnvironmentConfig } from '../config.ts';
import { Failure } from '../errors.ts';

/** Which of an environment's Git paths a part deploys: the app's own objects or its environment configuration. */
export type PartName = 'app' | 'config';

/** One deployable part of an app environment. Also the owner whose labels mark the objects it applies. */
export interface PartKey {
  readonly app: string;
  readonly environment: string;
  readonly part: PartName;
}

/**
 * The one key of a part, `app/environment/part`: the FIFO message group (jobs of a part run one at a time, in
 * order), the state's partition and the name people see.
 */
export function partId({ app, environment, part }: PartKey): string {
  return `${app}/${environment}/${part}`;
}

export const keyOf = ({ app, environment, part }: PartKey): PartKey => ({ app, environment, part });

/** The parts of an environment: its app objects and, when it has a `config.path`, its configuration. */
export function partsOf(environment: EnvironmentConfig): PartName[] {
  return environment.config === undefined ? ['app'] : ['app', 'config'];
}

/** How a part is deployed and kept: the one place its per-part policy is read from the configuration. */
export interface PartSettings {
  /** The manifests' directory in the repository, or undefined for a config part that has none. */
  readonly path: string | undefined;
  /** Deploy new commits (else only report them OutOfSync). */
  readonly autoSync: boolean;
  readonly prune: boolean;
  /** Re-apply when live objects drift. The configuration part heals with its environment. */
  readonly selfHeal: boolean;
}

export function partSettings(app: AppConfig, environment: EnvironmentConfig, part: PartName): PartSettings {
  if (part === 'config') {
    return {
      path: environment.config?.path,
      autoSync: environment.config?.autoSync ?? true,
      prune: environment.config?.prune ?? true,
      selfHeal: environment.selfHeal,
    };
  }
  return {
    path: environment.path ?? app.path,
    autoSync: environment.autoSync,
    prune: environment.prune,
    selfHeal: environment.selfHeal,
  };
}

/** A part as configured: its app, its environment and its settings. */
export interface ConfiguredPart {
  readonly app: AppConfig;
  readonly environment: EnvironmentConfig;
  readonly settings: PartSettings;
}

/** A configured part, or undefined when the configuration no longer has it. */
export function findPart(config: Config, key: PartKey): ConfiguredPart | undefined {
  const app = config.apps.find((a) => a.name === key.app);
  const environment = app?.environments.find((e) => e.name === key.environment);
  if (app === undefined || environment === undefined || !partsOf(environment).includes(key.part))
    return undefined;
  return { app, environment, settings: partSettings(app, environment, key.part) };
}

/** Every configured part, in configuration order. */
export function configuredParts(config: Config): PartKey[] {
  return config.apps.flatMap((app) =>
    app.environments.flatMap((environment) =>
      partsOf(environment).map((part) => ({ app: app.name, environment: environment.name, part })),
    ),
  );
}

/** The cluster an environment deploys to; a name the configuration lacks is a configuration failure. */
export function clusterOf(config: Config, environment: EnvironmentConfig): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === environment.cluster);
  if (cluster === undefined)
    throw new Failure('configuration', `no cluster ${environment.cluster} in the configuration`);
  return cluster;
}
