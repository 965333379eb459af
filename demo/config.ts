// The demo's configuration: the example app of the demo's Git server, in two environments of the demo's
// cluster. It is an ordinary ferry.config.yaml, written at each start (the ports change) for `ferry serve`.
import { writeFile } from 'node:fs/promises';
import { dump } from 'js-yaml';

/** The secret the configuration names, kept in the demo's secrets file. */
export const WEBHOOK_SECRET = 'demo/webhook';

/** The example's environments: their names, what they follow and where they run. */
export const ENVIRONMENTS = [
  { name: 'staging', follows: 'main', trigger: { branches: ['main'] } },
  { name: 'production', follows: 'tags v*', trigger: { tags: ['v*'] } },
] as const;

export const APP = 'hello';

const HEADER = `# Ferry's demo configuration, written by \`ferry demo\` at each start (the ports change). It is an
# ordinary configuration: a model for your own ferry.config.yaml (see ferry.config.example.yaml).
`;

export async function writeDemoConfig(
  file: string,
  { repositoryUrl, kubeconfig }: { readonly repositoryUrl: string; readonly kubeconfig: string },
): Promise<void> {
  const config = {
    repositories: [
      {
        name: APP,
        url: repositoryUrl,
        // The demo's Git server takes no token, and without one Ferry posts no commit statuses.
        provider: 'github',
        webhookSecret: WEBHOOK_SECRET,
      },
    ],
    clusters: [{ name: 'demo', type: 'kubeconfig', kubeconfig }],
    apps: [
      {
        name: APP,
        repository: APP,
        path: 'base',
        environments: ENVIRONMENTS.map(({ name, trigger }) => ({
          name,
          cluster: 'demo',
          namespace: `${APP}-${name}`,
          path: `overlays/${name}`,
          trigger,
          selfHeal: true,
          healthTimeoutSeconds: 60,
        })),
      },
    ],
    // Webhooks deploy pushes at once; the checks find what they missed, and heal drift, every minute.
    settings: { reconcileSchedule: 'rate(1 minute)', reconcileJitterSeconds: 0 },
  };
  await writeFile(file, HEADER + dump(config));
}
