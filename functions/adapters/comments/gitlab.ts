// GitLab: a merge request's comments are its notes (`/projects/:id/merge_requests/:iid/notes`, edited with
// `PUT .../notes/:note_id`), its files its diffs (`.../diffs`, GitLab 15.7 and later); `/user` says who a token
// is. System notes (GitLab's own "added 1 commit") are never Ferry's.
import type { RepositoryConfig } from '../../core/config.ts';
import type { CommentDialect, PullRequestComment, PullRequestHost } from '../../core/plan/ports.ts';
import { gitlabProject } from '../status/hosts.ts';
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

const PAGE = 100;

const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);

export class GitLabPullRequests implements PullRequestHost {
  /** GitLab takes notes of up to 1,000,000 characters. */
  readonly dialect: CommentDialect = { maxLength: 1_000_000, collapsible: true, hidden: 'html-comment' };
  readonly #client: HostClient;
  readonly #identities = new Identities();

  constructor(options: HostClientOptions = {}) {
    this.#client = new HostClient('GitLab', options);
  }

  #send(method: 'GET' | 'POST' | 'PUT', url: string, token: string, body?: unknown) {
    return this.#client.request(method, url, token, { 'private-token': token }, body);
  }

  async changedFiles(repository: RepositoryConfig, token: string, pullRequest: number) {
    const url = `${mergeRequestUrl(repository, pullRequest)}/diffs`;
    const diffs = await numberedPages(PAGE, async (page) =>
      listOf(await this.#send('GET', `${url}?per_page=${PAGE}&page=${page}`, token)),
    );
    return diffs?.flatMap((diff) => pathsOf(diff.new_path, diff.old_path));
  }

  async findComment(repository: RepositoryConfig, token: string, pullRequest: number, marker: string) {
    const identity = await this.#identities.of(token, async () => {
      const user = await this.#send(
        'GET',
        `${gitlabProject(repository.url, repository.apiUrl).apiUrl}/user`,
        token,
      );
      return stringOf((user as { username?: unknown } | undefined)?.username);
    });
    const url = `${mergeRequestUrl(repository, pullRequest)}/notes`;
    const notes = await numberedPages(PAGE, async (page) =>
      listOf(
        await this.#send('GET', `${url}?sort=asc&order_by=created_at&per_page=${PAGE}&page=${page}`, token),
      ),
    );
    const comments = (notes ?? [])
      .filter((note) => note.system !== true)
      .map((note) => ({
        id: String(note.id),
        body: stringOf(note.body) ?? '',
        author: stringOf(recordAt(note, 'author')?.username),
      }));
    const found = ours(comments, marker, identity);
    return found === undefined ? undefined : { id: found.id, body: found.body };
  }

  async createComment(repository: RepositoryConfig, token: string, pullRequest: number, body: string) {
    await this.#send('POST', `${mergeRequestUrl(repository, pullRequest)}/notes`, token, { body });
  }

  async updateComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    comment: PullRequestComment,
    body: string,
  ) {
    const url = `${mergeRequestUrl(repository, pullRequest)}/notes/${encodeURIComponent(comment.id)}`;
    await this.#send('PUT', url, token, { body });
  }
}

/** The merge request's resource: the project by its URL-encoded path, the merge request by its iid. */
function mergeRequestUrl(repository: RepositoryConfig, iid: number): string {
  const { apiUrl, path } = gitlabProject(repository.url, repository.apiUrl);
  return `${apiUrl}/projects/${encodeURIComponent(path)}/merge_requests/${iid}`;
}
