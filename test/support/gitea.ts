// A small client for the test bed's Gitea: repositories, hooks, tokens and commit statuses through its REST API,
// and working copies that push to it with the git CLI over HTTP, as a developer would.
import { randomBytes } from 'node:crypto';
import { GitWorkspace } from './git.ts';
import { uniqueName } from './testbed.ts';

export interface GiteaSettings {
  /** Without a trailing slash; the API is at `${url}/api/v1`. */
  readonly url: string;
  /** A site administrator. */
  readonly user: string;
  readonly password: string;
  /** An access token of that user with the scopes `write:repository` and `write:user`. */
  readonly token: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the test bed`);
  }
  return value;
}

/** The Gitea endpoint and credentials `npm test` exported. */
export function giteaSettings(): GiteaSettings {
  return {
    url: required('TESTBED_GITEA_URL'),
    user: required('TESTBED_GITEA_USER'),
    password: required('TESTBED_GITEA_PASSWORD'),
    token: required('TESTBED_GITEA_TOKEN'),
  };
}

export interface GiteaRepository {
  readonly owner: string;
  readonly name: string;
  /** `owner/name`. */
  readonly fullName: string;
  /** The HTTP clone URL, without credentials. */
  readonly cloneUrl: string;
  readonly defaultBranch: string;
  readonly empty: boolean;
}

export interface GiteaHook {
  readonly id: number;
  /** Where Gitea delivers. */
  readonly url: string;
  /** The key of the HMAC-SHA256 signature in `X-Gitea-Signature`. */
  readonly secret: string;
}

export type CommitState = 'pending' | 'success' | 'error' | 'failure' | 'warning' | 'skipped';

/** A commit status as Gitea's API returns it (note `status`, where creating one takes `state`). */
export interface CommitStatus {
  readonly id: number;
  readonly status: CommitState;
  readonly context: string;
  readonly description: string;
  readonly target_url: string;
  readonly creator: { readonly login: string } | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface CombinedStatus {
  readonly state: CommitState;
  readonly sha: string;
  readonly total_count: number;
  readonly statuses: readonly CommitStatus[];
}

export interface NewCommitStatus {
  readonly state: CommitState;
  readonly context: string;
  readonly description?: string;
  readonly targetUrl?: string;
}

/** A failed API call, with Gitea's status code and answer. */
export class GiteaError extends Error {
  override name = 'GiteaError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type Auth = 'token' | 'password';

export class GiteaClient {
  readonly settings: GiteaSettings;

  constructor(settings: GiteaSettings = giteaSettings()) {
    this.settings = settings;
  }

  /** One call of `/api/v1`, as the token's owner (or with the password, which token management needs). */
  async request<T>(method: string, path: string, body?: unknown, auth: Auth = 'token'): Promise<T> {
    const { url, user, password, token } = this.settings;
    const authorization =
      auth === 'token' ? `token ${token}` : `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: {
        authorization,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new GiteaError(response.status, `${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A repository of the token's owner: with a first commit (README on the default branch) or empty. */
  async createRepository(options: { name?: string; autoInit?: boolean } = {}): Promise<GiteaRepository> {
    const created = await this.request<{
      owner: { login: string };
      name: string;
      full_name: string;
      clone_url: string;
      default_branch: string;
      empty: boolean;
    }>('POST', '/user/repos', {
      name: options.name ?? uniqueName('repo'),
      auto_init: options.autoInit ?? false,
      default_branch: 'main',
      private: false,
    });
    return {
      owner: created.owner.login,
      name: created.name,
      fullName: created.full_name,
      cloneUrl: created.clone_url,
      defaultBranch: created.default_branch,
      empty: created.empty,
    };
  }

  /** A Gitea-type hook that POSTs JSON, signed with `secret`, to `url` on each push (or the given events). */
  async createHook(
    repository: GiteaRepository,
    options: { url: string; secret?: string; events?: readonly string[] },
  ): Promise<GiteaHook> {
    const secret = options.secret ?? randomBytes(16).toString('hex');
    const hook = await this.request<{ id: number }>('POST', `/repos/${repository.fullName}/hooks`, {
      type: 'gitea',
      config: { url: options.url, content_type: 'json', secret, http_method: 'post' },
      events: options.events ?? ['push'],
      active: true,
    });
    return { id: hook.id, url: options.url, secret };
  }

  /** A new access token of the user, e.g. with only the scopes a host's documentation names. */
  async createToken(scopes: readonly string[], name = uniqueName('token')): Promise<string> {
    const { user } = this.settings;
    const token = await this.request<{ sha1: string }>(
      'POST',
      `/users/${user}/tokens`,
      { name, scopes },
      'password',
    );
    return token.sha1;
  }

  async createStatus(
    repository: GiteaRepository,
    sha: string,
    status: NewCommitStatus,
  ): Promise<CommitStatus> {
    return this.request<CommitStatus>('POST', `/repos/${repository.fullName}/statuses/${sha}`, {
      state: status.state,
      context: status.context,
      description: status.description ?? '',
      target_url: status.targetUrl ?? '',
    });
  }

  /**
   * Every status of a commit (or branch, or tag), the newest first, the same context repeated per update.
   * Ordered by Gitea's per-commit index (`sort=leastindex`, index descending): creation times tie within a second.
   */
  async statuses(repository: GiteaRepository, ref: string): Promise<CommitStatus[]> {
    return this.request<CommitStatus[]>(
      'GET',
      `/repos/${repository.fullName}/commits/${ref}/statuses?sort=leastindex&limit=50`,
    );
  }

  /** The latest status per context and their combined state. */
  async combinedStatus(repository: GiteaRepository, ref: string): Promise<CombinedStatus> {
    return this.request<CombinedStatus>('GET', `/repos/${repository.fullName}/commits/${ref}/status`);
  }

  /** A working copy whose `origin` is the repository, pushed to with the token; on its branch if it has one. */
  async workspace(repository: GiteaRepository): Promise<GiteaWorkspace> {
    return GiteaWorkspace.create(repository, this.settings);
  }
}

/** A working copy of a Gitea repository: commits and pushes with the git CLI over HTTP, with the token. */
export class GiteaWorkspace {
  readonly repository: GiteaRepository;
  readonly #workspace: GitWorkspace;

  private constructor(repository: GiteaRepository, workspace: GitWorkspace) {
    this.repository = repository;
    this.#workspace = workspace;
  }

  static async create(repository: GiteaRepository, settings: GiteaSettings): Promise<GiteaWorkspace> {
    // The test bed's working copy, pointed at Gitea instead of the plain Git server.
    const workspace = await GitWorkspace.create(repository.fullName);
    const remote = new URL(repository.cloneUrl);
    remote.username = settings.user;
    remote.password = settings.token;
    await workspace.git('remote', 'set-url', 'origin', remote.href);
    if (!repository.empty) {
      const branch = repository.defaultBranch;
      await workspace.git('fetch', '--quiet', 'origin', branch);
      await workspace.git('checkout', '--quiet', '-B', branch, 'FETCH_HEAD');
    }
    return new GiteaWorkspace(repository, workspace);
  }

  get dir(): string {
    return this.#workspace.dir;
  }

  git(...args: string[]): Promise<string> {
    return this.#workspace.git(...args);
  }

  /** Writes files (null deletes one), commits them all and returns the new commit's SHA. */
  commit(files: Readonly<Record<string, string | null>>, message?: string): Promise<string> {
    return this.#workspace.commit(files, message);
  }

  /** Pushes the current commit to a branch, or a tag, of the repository. */
  push(ref = `refs/heads/${this.repository.defaultBranch}`): Promise<void> {
    return this.#workspace.push(ref);
  }

  remove(): Promise<void> {
    return this.#workspace.remove();
  }
}
