// What a plan asks of the Git host besides commit statuses: the files a pull request changes, and the one
// comment in which Ferry keeps its plan of every environment. Adapters implement it per host; every request is
// bounded in time and fails with a `Failure` of its class, never naming the token.
import type { RepositoryConfig } from '../config.ts';

/** How a host's comments are written: where it cuts them, and whether it renders `<details>`. */
export interface CommentDialect {
  /** The longest body the host takes, in characters. */
  readonly maxLength: number;
  /** Whether `<details>` folds (GitHub, GitLab, Gitea); Bitbucket shows HTML as text. */
  readonly collapsible: boolean;
  /** The hidden marker's form: an HTML comment, or (Bitbucket, which shows those) a link reference definition. */
  readonly hidden: 'html-comment' | 'link-reference';
}

export interface PullRequestComment {
  /** The host's id of the comment (a number on most hosts, kept as text). */
  readonly id: string;
  readonly body: string;
  /** Bitbucket Data Center updates a comment only at the version it was read at. */
  readonly version?: number;
}

export interface PullRequestHost {
  readonly dialect: CommentDialect;
  /**
   * The paths the pull request changes (both sides of a rename), or undefined when the host cannot list them all
   * (too many, or it does not say): then every path counts as changed.
   */
  changedFiles(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
  ): Promise<readonly string[] | undefined>;
  /**
   * Ferry's comment on the pull request: the oldest whose body starts with `marker` (by the token's own user,
   * where the host says who that is), or undefined.
   */
  findComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    marker: string,
  ): Promise<PullRequestComment | undefined>;
  createComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    body: string,
  ): Promise<void>;
  updateComment(
    repository: RepositoryConfig,
    token: string,
    pullRequest: number,
    comment: PullRequestComment,
    body: string,
  ): Promise<void>;
}
