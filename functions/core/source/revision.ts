import type { AppConfig, Config, EnvironmentConfig } from '../config.ts';
import type { JobPart } from '../jobs.ts';
import type { GitRemote, SecretSource } from '../ports.ts';
import { RenderError, type RenderRequest } from './render.ts';

/** The app's repository as Git reaches it, with its token read from the secret store. */
export async function remoteOf(config: Config, secrets: SecretSource, app: AppConfig): Promise<GitRemote> {
  const repository = config.repositories.find((r) => r.name === app.repository);
  if (repository === undefined) throw new Error(`no repository ${app.repository} in the configuration`);
  const token =
    repository.tokenSecret === undefined ? undefined : await secrets.getSecret(repository.tokenSecret);
  return { url: repository.url, token };
}

/** What to render for an environment part from a checked-out commit. */
export function renderRequestOf(
  app: AppConfig,
  environment: EnvironmentConfig,
  part: JobPart,
  root: string,
): RenderRequest {
  const path = part === 'config' ? environment.config?.path : (environment.path ?? app.path);
  if (path === undefined)
    throw new RenderError(`environment ${environment.name} of ${app.name} has no config path`);
  return {
    root,
    path,
    namespace: environment.namespace,
    releaseName: environment.helm?.releaseName ?? app.name,
    valuesFiles: environment.helm?.valuesFiles ?? [],
  };
}
