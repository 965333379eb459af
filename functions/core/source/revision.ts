// A revision of a part: where its repository is, what its tracked ref points to now, and the objects a commit
// renders to. Shared by deploy and reconcile, so both read Git the same way.
import type { AppConfig, Config } from '../config.ts';
import { Failure } from '../errors.ts';
import type { ConfiguredPart } from '../model/part.ts';
import type { Provider } from '../model/provider.ts';
import type { KubeObject } from '../objects.ts';
import type { GitRemote, GitSource, ManifestTools, SecretSource } from '../ports.ts';
import { RenderError, render } from './render.ts';

export interface SourceDependencies {
  readonly config: Config;
  readonly secrets: SecretSource;
  readonly git: GitSource;
  readonly tools: ManifestTools;
}

/** The app's repository as Git reaches it, with its token read from the secret store. */
export async function remoteOf(config: Config, secrets: SecretSource, app: AppConfig): Promise<GitRemote> {
  const repository = config.repositories.find((r) => r.name === app.repository);
  if (repository === undefined)
    throw new Failure('configuration', `no repository ${app.repository} in the configuration`);
  const token =
    repository.tokenSecret === undefined ? undefined : await secrets.getSecret(repository.tokenSecret);
  return { url: repository.url, token, tokenAs: TOKEN_AS[repository.provider] };
}

/** How each host takes a repository token over Git's smart HTTP. */
const TOKEN_AS: Readonly<Record<Provider, NonNullable<GitRemote['tokenAs']>>> = {
  github: { basicUser: 'x-access-token' },
  gitlab: { basicUser: 'x-access-token' },
  gitea: { basicUser: 'x-access-token' },
  bitbucket: { basicUser: 'x-token-auth' },
  'bitbucket-server': 'bearer',
};

/**
 * The remote refs of each repository, listed once per batch of jobs or checks (one `ls-remote` per repository
 * however many parts follow it).
 */
export class RefsCache {
  readonly #refs = new Map<string, Promise<Map<string, string>>>();

  list(git: GitSource, remote: GitRemote): Promise<Map<string, string>> {
    let refs = this.#refs.get(remote.url);
    if (refs === undefined) {
      refs = git.listRefs(remote);
      this.#refs.set(remote.url, refs);
      // A failed listing is not kept: the next job of the batch asks again.
      refs.catch(() => this.#refs.delete(remote.url));
    }
    return refs;
  }
}

/** The objects a part's path renders to at one commit: fetched, rendered, and the checkout removed. */
export async function renderRevision(
  deps: SourceDependencies,
  remote: GitRemote,
  part: ConfiguredPart,
  commit: string,
): Promise<KubeObject[]> {
  const { app, environment } = part;
  const { path } = part.settings;
  if (path === undefined)
    throw new RenderError(`environment ${environment.name} of ${app.name} has no config path`);
  const checkout = await deps.git.checkout(remote, commit);
  try {
    return await render(
      {
        root: checkout.dir,
        path,
        namespace: environment.namespace,
        releaseName: environment.helm?.releaseName ?? app.name,
        valuesFiles: environment.helm?.valuesFiles ?? [],
      },
      deps.tools,
    );
  } finally {
    await checkout.dispose();
  }
}
