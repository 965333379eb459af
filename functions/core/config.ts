import { readFile } from 'node:fs/promises';
import { YAMLException } from 'js-yaml';
import { z } from 'zod';
import { DURATION, durationSeconds } from './duration.ts';
import { errorMessage } from './errors.ts';
import { PROVIDERS } from './model/provider.ts';
import { parseScheduleExpression, ScheduleExpressionError } from './schedule-expression.ts';
import { parseYaml, yamlErrorPosition } from './yaml.ts';

/** A DNS-1123 label: the names of repositories, clusters, apps and environments. */
const name = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and dashes (a DNS label)');

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository');

const globs = z.array(z.string().min(1)).default([]);

const repository = z
  .strictObject({
    name,
    /** Clone URL over HTTPS, e.g. `https://github.com/acme/shop.git`. */
    url: z.url({ protocol: /^https?$/ }).refine((url) => {
      const { username, password } = new URL(url);
      return username === '' && password === '';
    }, 'must not carry credentials: put the token in a secret named by tokenSecret'),
    /** `bitbucket` is Bitbucket Cloud, `bitbucket-server` Bitbucket Data Center (and Server); Forgejo is `gitea`. */
    provider: z.enum(PROVIDERS),
    /**
     * Name of the Secrets Manager secret holding the webhook secret. Its value is the secret itself, or a JSON
     * array of secrets, all accepted, while one is rotated.
     */
    webhookSecret: z.string().min(1),
    /** Name of the Secrets Manager secret holding a token that can read the repository; none for a public one. */
    tokenSecret: z.string().min(1).optional(),
    /** Name of the secret holding a token that may post commit statuses (default: `tokenSecret`). */
    statusTokenSecret: z.string().min(1).optional(),
    /**
     * GitLab's API, where the clone URL cannot tell it: a GitLab under a relative URL root
     * (`https://git.example.com/gitlab/api/v4`). Every other host's is found from the clone URL.
     */
    apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((r) => r.apiUrl === undefined || r.provider === 'gitlab', {
    message: "is read for GitLab only: the other hosts' APIs are found from the clone URL; remove it",
    path: ['apiUrl'],
  })
  .refine((r) => r.apiUrl === undefined || /\/api\/v4\/?$/.test(new URL(r.apiUrl).pathname), {
    message:
      "must be the URL of GitLab's API, ending in /api/v4 (e.g. https://git.example.com/gitlab/api/v4)",
    path: ['apiUrl'],
  });

const eksCluster = z.strictObject({
  name,
  type: z.literal('eks'),
  /** The EKS cluster's name; its endpoint and CA are described at run time. */
  clusterName: z.string().min(1),
  region: z.string().min(1).optional(),
  /** The EKS access policy granted to Ferry's roles, and the namespaces it is scoped to (none: the cluster). */
  accessPolicy: z
    .enum(['AmazonEKSClusterAdminPolicy', 'AmazonEKSAdminPolicy', 'AmazonEKSEditPolicy'])
    .default('AmazonEKSClusterAdminPolicy'),
  namespaces: z.array(name).optional(),
});

const kubeconfigCluster = z.strictObject({
  name,
  type: z.literal('kubeconfig'),
  /** Path of a kubeconfig file (default: `KUBECONFIG` or `~/.kube/config`); for the local mode. */
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
});

const cluster = z.discriminatedUnion('type', [eksCluster, kubeconfigCluster]);

/** Fields of live objects that are not drift, e.g. `/spec/replicas` of Deployments scaled by an HPA. */
const ignoreRule = z.strictObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().optional(),
  namespace: z.string().optional(),
  jsonPointers: z
    .array(z.string().regex(/^(\/[^/]*)+$/, 'must be a JSON pointer such as /spec/replicas'))
    .min(1),
});

const trigger = z.strictObject({
  /** Branch name globs, e.g. `main`, `release/*`. */
  branches: globs,
  /** Tag name globs, e.g. `v*`. */
  tags: globs,
  /** Changed-path globs; a push that changes none of them is ignored. Empty: any change. */
  paths: globs,
});

/** A follower's trigger: none of its own (it deploys what the environment it follows ran). */
const NO_TRIGGER = { branches: [], tags: [], paths: [] };

export { durationSeconds };

/** A duration (`DURATION`) of at most 30 days. */
const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 90s, 10m or 1h30m')
  .refine((text) => durationSeconds(text) <= 30 * 24 * 3600, 'must be at most 30 days');

/** Another environment of the same app whose healthy commits this one deploys, and nothing else. */
const follow = z.strictObject({
  environment: name,
  /** How long the followed environment must have run a commit Synced (and so Current) before it is promoted. */
  healthyFor: duration.default('0s'),
});

/** An environment, of this app or another, that must be Synced at its latest revision before this one deploys. */
const dependency = z.strictObject({ app: name, environment: name });

const environmentConfig = z.strictObject({
  /** Path of the environment-level objects (Ingress, ConfigMap, Secret, PVC) in the app's repository. */
  path: relativePath,
  autoSync: z.boolean().default(true),
  prune: z.boolean().default(true),
});

const helm = z.strictObject({
  releaseName: name.optional(),
  /** Values files, relative to the chart directory, applied in order. */
  valuesFiles: z.array(relativePath).default([]),
});

const environment = z
  .strictObject({
    name,
    cluster: name,
    /** The namespace that namespaced objects without one are deployed to. */
    namespace: name,
    /** The refs this environment follows; none for a follower (see `follow`). */
    trigger: trigger.default(NO_TRIGGER),
    /** Deploy what another environment of the app has run healthily, instead of following a ref. */
    follow: follow.optional(),
    /** Environments that must be Synced at their latest revision before this one deploys. */
    dependsOn: z.array(dependency).optional(),
    /** Overrides the app's path for this environment, e.g. a Kustomize overlay. */
    path: relativePath.optional(),
    helm: helm.optional(),
    /** Deploy new commits automatically; when off, they are only reported as OutOfSync. */
    autoSync: z.boolean().default(true),
    /** Delete objects that a new revision no longer contains. */
    prune: z.boolean().default(true),
    /** Re-apply the last revision when the live objects drift from it. */
    selfHeal: z.boolean().default(false),
    /** Skip this environment in pushes and reconciliation. */
    suspend: z.boolean().default(false),
    /** Allow a revision that renders no object to prune everything. */
    allowEmpty: z.boolean().default(false),
    /** Allow deleting and re-creating an object whose immutable fields changed. */
    recreateOnImmutableChange: z.boolean().default(false),
    /** Allow pruning PersistentVolumeClaims (their data goes with them). */
    prunePersistentVolumeClaims: z.boolean().default(false),
    healthTimeoutSeconds: z.number().int().min(0).max(840).default(300),
    /**
     * The most objects one deployment may prune: a count, or a percentage of the previous revision's objects.
     * Above it nothing is pruned and the deployment fails, listing them; a manual deploy can override it.
     */
    deletionBudget: z
      .union([
        z.number().int().min(0),
        z.string().regex(/^(100|[1-9]?[0-9])%$/, 'must be a count or a percentage such as 25%'),
      ])
      .optional(),
    ignoreDifferences: z.array(ignoreRule).default([]),
    config: environmentConfig.optional(),
  })
  .superRefine((env, ctx) => {
    const patterns = env.trigger.branches.length + env.trigger.tags.length;
    if (env.follow === undefined && patterns === 0)
      ctx.addIssue({
        code: 'custom',
        message: 'needs at least one branch or tag pattern',
        path: ['trigger'],
      });
    if (env.follow !== undefined && patterns > 0)
      ctx.addIssue({
        code: 'custom',
        message: `a follower has no branch or tag patterns: it deploys what ${env.follow.environment} ran`,
        path: ['trigger'],
      });
  });

const app = z.strictObject({
  name,
  repository: name,
  /** Directory of the app's manifests: plain YAML, a Kustomize directory or a Helm chart. */
  path: relativePath,
  environments: z.array(environment).min(1),
});

function checkSchedule(expression: string, ctx: z.RefinementCtx): void {
  try {
    parseScheduleExpression(expression);
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
}

const settings = z.strictObject({
  /** EventBridge schedule expression of the reconciler, in the stack and in the local mode alike. */
  reconcileSchedule: z.string().superRefine(checkSchedule).default('rate(5 minutes)'),
  /** Spread of the reconciler's checks over this many seconds, so they do not hit hosts at once. */
  reconcileJitterSeconds: z.number().int().min(0).max(900).default(60),
  /** How long a webhook delivery id is remembered, so that a redelivery is not deployed twice. */
  deliveryRetentionHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  /** Largest webhook body accepted; larger ones get 413. Below Lambda's 6 MB synchronous payload limit. */
  maxWebhookBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(5 * 1024 * 1024)
    .default(1024 * 1024),
});

/** Plans of pull requests (a comment and a status per environment, from a dry-run against its live cluster). */
const plan = z.strictObject({
  /**
   * Plan pull requests whose head is in another repository (a fork). Their author controls what is rendered
   * and dry-run with Ferry's credentials, so they are not planned unless this is on.
   */
  forks: z.boolean().default(false),
});

/**
 * The changes of a part's sync status a notification is sent for: it failed, went OutOfSync, recovered (Synced
 * after Failed or OutOfSync), or was first synced.
 */
export const NOTIFICATION_EVENTS = ['failed', 'out-of-sync', 'recovered', 'synced'] as const;

/** Which changes a webhook is told of: of these apps, environments and events (each absent: all). */
const notificationFilter = {
  apps: z.array(name).min(1).optional(),
  environments: z.array(name).min(1).optional(),
  events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional(),
};

/** A Slack-compatible incoming webhook: its URL is a credential, so the configuration names its secret. */
const slackWebhook = z.strictObject({
  name,
  type: z.literal('slack'),
  /** Name of the secret holding the incoming webhook's URL. */
  urlSecret: z.string().min(1),
  ...notificationFilter,
});

/** A JSON webhook: the event as the body, signed with HMAC-SHA256 under the named secret. */
const jsonWebhook = z.strictObject({
  name,
  type: z.literal('json'),
  url: z.url({ protocol: /^https?$/ }).refine((url) => {
    const { username, password } = new URL(url);
    return username === '' && password === '';
  }, 'must not carry credentials: the body is signed with signingSecret'),
  /** Name of the secret holding the key of the body's HMAC-SHA256 signature. */
  signingSecret: z.string().min(1),
  ...notificationFilter,
});

const notifications = z.strictObject({
  /**
   * The stack's alarm fires for a part that every check of this many minutes found OutOfSync. At least twice
   * the reconcile interval; at most 180 (CloudWatch evaluates such alarms on the last three hours).
   */
  outOfSyncAlarmMinutes: z.number().int().min(10).max(180).default(30),
  /** Outbound webhooks told of changes of state, in AWS and in the local mode. */
  webhooks: z.array(z.discriminatedUnion('type', [slackWebhook, jsonWebhook])).default([]),
});

/** Webhook names are unique, and the apps and environments they filter on are configured. */
function checkNotifications(
  webhooks: z.infer<typeof notifications>['webhooks'],
  apps: readonly { name: string; environments: readonly { name: string }[] }[],
  ctx: z.RefinementCtx,
): void {
  uniqueNames(webhooks, ctx, ['notifications', 'webhooks']);
  const known = {
    apps: new Set(apps.map((a) => a.name)),
    environments: new Set(apps.flatMap((a) => a.environments.map((e) => e.name))),
  };
  webhooks.forEach((webhook, w) => {
    for (const field of ['apps', 'environments'] as const) {
      webhook[field]?.forEach((value, i) => {
        if (known[field].has(value)) return;
        ctx.addIssue({
          code: 'custom',
          message: `no ${field === 'apps' ? 'app' : 'environment'} named "${value}"`,
          path: ['notifications', 'webhooks', w, field, i],
        });
      });
    }
  });
}

type AppInput = z.infer<typeof app>;

/** A follower follows another environment of its app. */
function checkFollows(app: AppInput, a: number, ctx: z.RefinementCtx): void {
  const names = new Set(app.environments.map((e) => e.name));
  app.environments.forEach((env, e) => {
    const followed = env.follow?.environment;
    if (followed === undefined) return;
    const message =
      followed === env.name
        ? 'an environment cannot follow itself'
        : names.has(followed)
          ? undefined
          : `no environment named "${followed}" in app ${app.name}`;
    if (message !== undefined)
      ctx.addIssue({
        code: 'custom',
        message,
        path: ['apps', a, 'environments', e, 'follow', 'environment'],
      });
  });
}

/**
 * Dependencies name configured environments, and neither they nor follows make a cycle: an environment that
 * waited on itself, however far round, would never deploy. A cycle is named once, where it is first met.
 */
function checkDependencies(apps: readonly AppInput[], ctx: z.RefinementCtx): void {
  const id = (app: string, environment: string) => `${app}/${environment}`;
  const edges = new Map<string, string[]>();
  const where = new Map<string, PropertyKey[]>();
  apps.forEach((app, a) => {
    app.environments.forEach((env, e) => {
      const path = ['apps', a, 'environments', e];
      const to = (env.dependsOn ?? []).map((d) => id(d.app, d.environment));
      if (env.follow !== undefined) to.push(id(app.name, env.follow.environment));
      edges.set(id(app.name, env.name), to);
      where.set(id(app.name, env.name), [...path, env.dependsOn === undefined ? 'follow' : 'dependsOn']);
    });
  });
  apps.forEach((app, a) => {
    app.environments.forEach((env, e) => {
      env.dependsOn?.forEach((d, i) => {
        if (edges.has(id(d.app, d.environment))) return;
        ctx.addIssue({
          code: 'custom',
          message: `no environment ${d.environment} of app ${d.app}`,
          path: ['apps', a, 'environments', e, 'dependsOn', i],
        });
      });
    });
  });
  for (const cycle of cyclesOf(edges)) {
    const [first = ''] = cycle;
    ctx.addIssue({
      code: 'custom',
      message: `dependency cycle: ${[...cycle, first].join(' → ')}`,
      path: where.get(first) ?? [],
    });
  }
}

/** The cycles of a directed graph, each once, as found by a depth-first search in the graph's order. */
function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const done = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at !== -1) {
      cycles.push(path.slice(at));
      return;
    }
    if (done.has(node)) return;
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of edges.keys()) visit(node, []);
  return cycles;
}

const uniqueNames = <T extends { name: string }>(
  items: readonly T[],
  ctx: z.RefinementCtx,
  path: PropertyKey[],
) => {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name))
      ctx.addIssue({
        code: 'custom',
        message: `duplicate name "${item.name}"`,
        path: [...path, index, 'name'],
      });
    seen.add(item.name);
  });
};

export const configSchema = z
  .strictObject({
    repositories: z.array(repository).min(1),
    clusters: z.array(cluster).min(1),
    apps: z.array(app).min(1),
    settings: settings.default(settings.parse({})),
    notifications: notifications.default(notifications.parse({})),
    plan: plan.default(plan.parse({})),
  })
  .superRefine((config, ctx) => {
    checkNotifications(config.notifications.webhooks, config.apps, ctx);
    checkDependencies(config.apps, ctx);
    uniqueNames(config.repositories, ctx, ['repositories']);
    uniqueNames(config.clusters, ctx, ['clusters']);
    uniqueNames(config.apps, ctx, ['apps']);
    const repositories = new Set(config.repositories.map((r) => r.name));
    const clusters = new Set(config.clusters.map((c) => c.name));
    config.apps.forEach((app, a) => {
      if (!repositories.has(app.repository)) {
        ctx.addIssue({
          code: 'custom',
          message: `no repository named "${app.repository}"`,
          path: ['apps', a, 'repository'],
        });
      }
      uniqueNames(app.environments, ctx, ['apps', a, 'environments']);
      checkFollows(app, a, ctx);
      app.environments.forEach((env, e) => {
        if (!clusters.has(env.cluster)) {
          ctx.addIssue({
            code: 'custom',
            message: `no cluster named "${env.cluster}"`,
            path: ['apps', a, 'environments', e, 'cluster'],
          });
        }
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type RepositoryConfig = Config['repositories'][number];
export type ClusterConfig = Config['clusters'][number];
export type AppConfig = Config['apps'][number];
export type EnvironmentConfig = AppConfig['environments'][number];
export type IgnoreRule = EnvironmentConfig['ignoreDifferences'][number];
export type NotificationWebhookConfig = Config['notifications']['webhooks'][number];
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** An invalid configuration; the message names every offending field, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
    '',
  );
}

/** Validates a configuration object; `source` names it in errors (e.g. the file). */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (issue) => `  ${fieldPath(issue.path) || '(root)'}: ${issue.message}`,
  );
  throw new ConfigError(`invalid ${source}:\n${lines.join('\n')}`);
}

/** Reads and validates a YAML (or JSON) configuration file. */
export async function loadConfigFile(path: string): Promise<Config> {
  const text = await readFile(path, 'utf8');
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`invalid ${path}: ${yamlErrorMessage(error)}`);
  }
  return parseConfig(document, path);
}

/** A YAML error's reason, where it is (counted from 1) and the lines around it, the place marked. */
function yamlErrorMessage(error: unknown): string {
  const at = yamlErrorPosition(error);
  if (!(error instanceof YAMLException) || at === undefined) return errorMessage(error);
  const snippet = error.mark?.snippet;
  return `${error.reason} at line ${at.line}, column ${at.column}${snippet ? `:\n\n${snippet}` : ''}`;
}

/** The environment of an app, or undefined. */
export function findEnvironment(
  config: Config,
  appName: string,
  environmentName: string,
): { app: AppConfig; environment: EnvironmentConfig } | undefined {
  const app = config.apps.find((a) => a.name === appName);
  const environment = app?.environments.find((e) => e.name === environmentName);
  return app && environment ? { app, environment } : undefined;
}
