// Bitbucket Cloud (`/2.0/repositories/{workspace}/{repo}/pullrequests/{id}/comments` and `/diffstat`, pages
// linked by `next`) and Bitbucket Data Center (`/rest/api/latest/projects/{key}/repos/{slug}/pull-requests/{id}`:
// comments read from its activities, updated at the version read; files from `/changes`). Neither folds
// `<details>` nor hides HTML comments: the marker is a Markdown link reference definition, which neither shows.
import type { RepositoryConfig } from '../../core/config.ts';
import { Failure } from '../../core/errors.ts';
import type { CommentDialect, PullRequestComment, PullRequestHost } from '../../core/plan/ports.ts';
import { BITBUCKET_CLOUD_API, bitbucketRepository, dataCenterRepository } from '../status/hosts.ts';
import {
  HostClient,
  type HostClientOptions,
  Identities,
  linkedPages,
  listOf,
  ours,
  pathsOf,
  recordAt,
} from './http.ts';

const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Bitbucket's comments are kept well below what either takes. */
const DIALECT: CommentDialect = { maxLength: 32_000, collapsible: false, hidden: 'link-reference' };

export interface BitbucketCloudOptions extends HostClientOptions {
  /** Bitbucket Cloud's API (default: BITBUCKET_CLOUD_API). */
  readonly apiUrl?: string;
}

export class BitbucketCloudPullRequests implements PullRequestHost {
  readonly dialect = DIALECT;
  readonly #client: HostClient;
  readonly #apiUrl: string;
  readonly #identities = new Identities();

  constructor(options: BitbucketCloudOptions = {}) {
    this.#client = new HostClient('Bitbucket Cloud', options);
    this.#apiUrl = options.apiUrl ?? BITBUCKET_CLOUD_API;
  }

  #send(method: 'GET' | 'POST' | 'PUT', url: string, token: string, body?: unknown) {
    return this.#client.request(method, url, token, { authorization: `Bearer ${token}` }, body);
  }

  #url(repository: RepositoryConfig, pullRequest: number, path: string): string {
    const { apiUrl, owner, repo } = bitbucketRepository(repository.url, this.#apiUrl);
    return `${apiUrl}/repositories/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pullrequests/${pullRequest}${path}`;
  }

  /** The pages of a list, following `next` only within the API (it carries the token). */
  #pages(first: string, token: string) {
    return linkedPages(first, async (url) => {
      const answer = await this.#send('GET', url, token);
      const next = stringOf((answer as { next?: unknown } | undefined)?.next);
      if (next !== undefined && !next.startsWith(`${this.#apiUrl}/`))
        throw new Failure(
          'rejected',
          `Bitbucket Cloud named a next page outside its API: ${new URL(next).host}`,
        );
      return { items: listOf(answer, 'values'), next };
    });
  }

  async changedFiles(repository: RepositoryConfig, token: string, pullRequest: number) {
    const stats = await this.#pages(this.#url(repository, pullRequest, '/diffstat?pagelen=100'), token);
    return stats?.flatMap((stat) => pathsOf(recordAt(stat, 'new')?.path, recordAt(stat, 'old')?.path));
  }

  async findComment(repository: RepositoryConfig, token: string, pullRequest: number, marker: string) {
    const identity = await this.#identities.of(token, async () =>
      stringOf(((await this.#send('GET', `${this.#apiUrl}/user`, token)) as { uuid?: unknown })?.uuid),
    );
    const values = await this.#pages(this.#url(repository, pullRequest, '/comments?pagelen=100'), token);
    const comments = (values ?? [])
      .filter((comment) => comment.deleted !== true && comment.inline === undefined)
      .map((comment) => ({
        id: String(comment.id),
        body: stringOf(recordAt(comment, 'content')?.raw) ?? '',
        author: stringOf(recordAt(comment, 'user')?.uuid),
      }));
    const found = ours(comments, marker, identity);
    return found === undefined ? undefined : { id: found.id, body: found.body };
  }

  async createComment(repository: RepositoryConfig, token: string, pullRequest: number, body: string) {
    await this.#send('POST', this.#url(repository, pullRequest, '/comments'), token, {
      content: { raw: body },
    });
  }

  async updateComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    comment: PullRequestComment,
    body: string,
  ) {
    const url = this.#url(repository, pullRequest, `/comments/${encodeURIComponent(comment.id)}`);
    await this.#send('PUT', url, token, { content: { raw: body } });
  }
}

/** Data Center pages by `start` and `limit`, saying `isLastPage` and `nextPageStart`. */
const nextStart = (answer: unknown): number | undefined => {
  const page = answer as { isLastPage?: unknown; nextPageStart?: unknown } | undefined;
  return page?.isLastPage === false && typeof page.nextPageStart === 'number'
    ? page.nextPageStart
    : undefined;
};

export class BitbucketDataCenterPullRequests implements PullRequestHost {
  readonly dialect = DIALECT;
  readonly #client: HostClient;

  constructor(options: HostClientOptions = {}) {
    this.#client = new HostClient('Bitbucket Data Center', options);
  }

  #send(method: 'GET' | 'POST' | 'PUT', url: string, token: string, body?: unknown) {
    return this.#client.request(method, url, token, { authorization: `Bearer ${token}` }, body);
  }

  #url(repository: RepositoryConfig, pullRequest: number, path: string): string {
    const { baseUrl, project, slug } = dataCenterRepository(repository.url);
    return `${baseUrl}/rest/api/latest/projects/${encodeURIComponent(project)}/repos/${encodeURIComponent(slug)}/pull-requests/${pullRequest}${path}`;
  }

  #pages(url: string, token: string) {
    return linkedPages(0, async (start) => {
      const answer = await this.#send('GET', `${url}${url.includes('?') ? '&' : '?'}start=${start}`, token);
      return { items: listOf(answer, 'values'), next: nextStart(answer) };
    });
  }

  async changedFiles(repository: RepositoryConfig, token: string, pullRequest: number) {
    const changes = await this.#pages(this.#url(repository, pullRequest, '/changes?limit=500'), token);
    return changes?.flatMap((change) =>
      pathsOf(recordAt(change, 'path')?.toString, recordAt(change, 'srcPath')?.toString),
    );
  }

  /** By its marker alone: Data Center has no API that says who a token is. */
  async findComment(repository: RepositoryConfig, token: string, pullRequest: number, marker: string) {
    const activities = await this.#pages(this.#url(repository, pullRequest, '/activities?limit=100'), token);
    const comments = (activities ?? [])
      .filter((activity) => activity.action === 'COMMENTED')
      .map((activity) => recordAt(activity, 'comment'))
      .filter((comment) => comment !== undefined)
      .map((comment) => ({
        id: String(comment.id),
        body: stringOf(comment.text) ?? '',
        author: undefined,
        version: typeof comment.version === 'number' ? comment.version : 0,
      }))
      // Activities come newest first; the oldest marked comment is Ferry's.
      .reverse();
    const found = ours(comments, marker, undefined);
    return found === undefined ? undefined : { id: found.id, body: found.body, version: found.version };
  }

  async createComment(repository: RepositoryConfig, token: string, pullRequest: number, body: string) {
    await this.#send('POST', this.#url(repository, pullRequest, '/comments'), token, { text: body });
  }

  async updateComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    comment: PullRequestComment,
    body: string,
  ) {
    const url = this.#url(repository, pullRequest, `/comments/${encodeURIComponent(comment.id)}`);
    // 409: the comment changed since it was read (someone edited it); the job runs again and reads it anew.
    await this.#client.request(
      'PUT',
      url,
      token,
      { authorization: `Bearer ${token}` },
      { text: body, version: comment.version ?? 0 },
      [409],
    );
  }
}
