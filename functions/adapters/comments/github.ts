// GitHub (and GitHub Enterprise), and Gitea and Forgejo, which copy its API: a pull request's conversation
// comments are its issue's (`/repos/{owner}/{repo}/issues/{number}/comments`, edited at
// `/issues/comments/{id}`), its files `/pulls/{number}/files`; `/user` says who a token is.
import type { RepositoryConfig } from '../../core/config.ts';
import type { CommentDialect, PullRequestComment, PullRequestHost } from '../../core/plan/ports.ts';
import { giteaRepository, githubRepository, type OwnedRepository } from '../status/hosts.ts';
import {
  HostClient,
  type HostClientOptions,
  Identities,
  listOf,
  numberedPages,
  ours,
  pathsOf,
  recordAt,
} from './http.ts';

/** How one of the two hosts differs. */
interface Flavour {
  readonly host: string;
  readonly repository: (url: string) => OwnedRepository;
  readonly headers: (token: string) => Record<string, string>;
  /** Page size and the query of one page of files. */
  readonly filesPage: number;
  readonly filesQuery: (page: number) => string;
  /** The query of one page of comments, or undefined when the host lists them all at once. */
  readonly commentsQuery: ((page: number) => string) | undefined;
}

const GITHUB: Flavour = {
  host: 'GitHub',
  repository: githubRepository,
  headers: (token) => ({
    authorization: `Bearer ${token}`,
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
  }),
  filesPage: 100,
  filesQuery: (page) => `?per_page=100&page=${page}`,
  commentsQuery: (page) => `?per_page=100&page=${page}`,
};

/** Gitea pages by `limit` (at most its MAX_RESPONSE_ITEMS, 50 by default) and lists issue comments whole. */
const GITEA: Flavour = {
  host: 'Gitea',
  repository: giteaRepository,
  headers: (token) => ({ authorization: `token ${token}` }),
  filesPage: 50,
  filesQuery: (page) => `?limit=50&page=${page}`,
  commentsQuery: undefined,
};

const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);

class IssueComments implements PullRequestHost {
  readonly dialect: CommentDialect = { maxLength: 65_536, collapsible: true, hidden: 'html-comment' };
  readonly #flavour: Flavour;
  readonly #client: HostClient;
  readonly #identities = new Identities();

  constructor(flavour: Flavour, options: HostClientOptions) {
    this.#flavour = flavour;
    this.#client = new HostClient(flavour.host, options);
  }

  #url(repository: RepositoryConfig, path: string): string {
    const { apiUrl, owner, repo } = this.#flavour.repository(repository.url);
    return `${apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}${path}`;
  }

  #send(method: 'GET' | 'POST' | 'PATCH', url: string, token: string, body?: unknown) {
    return this.#client.request(method, url, token, this.#flavour.headers(token), body);
  }

  async changedFiles(repository: RepositoryConfig, token: string, pullRequest: number) {
    const url = this.#url(repository, `/pulls/${pullRequest}/files`);
    const { filesPage, filesQuery } = this.#flavour;
    const files = await numberedPages(filesPage, async (page) =>
      listOf(await this.#send('GET', `${url}${filesQuery(page)}`, token)),
    );
    return files?.flatMap((file) => pathsOf(file.filename, file.previous_filename));
  }

  async findComment(repository: RepositoryConfig, token: string, pullRequest: number, marker: string) {
    const identity = await this.#identities.of(token, async () => {
      const user = await this.#send('GET', `${this.#flavour.repository(repository.url).apiUrl}/user`, token);
      return stringOf((user as { login?: unknown } | undefined)?.login);
    });
    const url = this.#url(repository, `/issues/${pullRequest}/comments`);
    const page = async (query: string) =>
      listOf(await this.#send('GET', `${url}${query}`, token)).map((comment) => ({
        id: String(comment.id),
        body: stringOf(comment.body) ?? '',
        author: stringOf(recordAt(comment, 'user')?.login),
      }));
    const { commentsQuery } = this.#flavour;
    const comments =
      commentsQuery === undefined ? await page('') : await numberedPages(100, (n) => page(commentsQuery(n)));
    const found = ours(comments ?? [], marker, identity);
    return found === undefined ? undefined : { id: found.id, body: found.body };
  }

  async createComment(repository: RepositoryConfig, token: string, pullRequest: number, body: string) {
    await this.#send('POST', this.#url(repository, `/issues/${pullRequest}/comments`), token, { body });
  }

  async updateComment(
    repository: RepositoryConfig,
    token: string,
    _pullRequest: number,
    comment: PullRequestComment,
    body: string,
  ) {
    const url = this.#url(repository, `/issues/comments/${encodeURIComponent(comment.id)}`);
    await this.#send('PATCH', url, token, { body });
  }
}

export class GitHubPullRequests extends IssueComments {
  constructor(options: HostClientOptions = {}) {
    super(GITHUB, options);
  }
}

export class GiteaPullRequests extends IssueComments {
  constructor(options: HostClientOptions = {}) {
    super(GITEA, options);
  }
}
