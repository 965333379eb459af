// Build statuses on Bitbucket Cloud (`POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build`)
// and Bitbucket Data Center (`POST /rest/api/latest/projects/{key}/repos/{slug}/commits/{commit}/builds`, since
// 7.4). Both keep one status per key, overwritten by each post, and both require a URL: without a link of
// Ferry's, the repository's page.
import type { RepositoryConfig } from '../../core/config.ts';
import type { CommitState } from '../../core/model/feedback.ts';
import type { PostedStatus, StatusReporter } from '../../core/ports.ts';
import { BITBUCKET_CLOUD_API, bitbucketRepository, dataCenterRepository, shortRef } from './hosts.ts';
import { type ReporterOptions, requestJson } from './http.ts';

/**
 * Bitbucket Cloud's states: INPROGRESS, SUCCESSFUL, FAILED, STOPPED. Queued and running are both in progress;
 * a superseded commit is STOPPED (a build that a newer one made moot, neither passed nor failed).
 */
export const BITBUCKET_STATES: Readonly<Record<CommitState, string>> = {
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  superseded: 'STOPPED',
  'out-of-sync': 'FAILED',
};

/** Bitbucket Data Center's: INPROGRESS, SUCCESSFUL, FAILED, CANCELLED, UNKNOWN. */
export const DATA_CENTER_STATES: Readonly<Record<CommitState, string>> = {
  ...BITBUCKET_STATES,
  superseded: 'CANCELLED',
};

/** Data Center's limits on a build status's fields. */
const DATA_CENTER_LENGTH = { description: 255, url: 450 } as const;

export interface BitbucketReporterOptions extends ReporterOptions {
  /** Bitbucket Cloud's API (default: BITBUCKET_CLOUD_API). */
  readonly apiUrl?: string;
}

/** Bitbucket Cloud, with a repository, project or workspace access token (as a bearer token). */
export class BitbucketCloudReporter implements StatusReporter {
  readonly #options: BitbucketReporterOptions;

  constructor(options: BitbucketReporterOptions = {}) {
    this.#options = options;
  }

  async post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void> {
    if (token === undefined) return;
    const { apiUrl, owner, repo, webUrl } = bitbucketRepository(
      repository.url,
      this.#options.apiUrl ?? BITBUCKET_CLOUD_API,
    );
    await requestJson({
      host: 'Bitbucket Cloud',
      method: 'POST',
      url: `${apiUrl}/repositories/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/commit/${status.commit}/statuses/build`,
      headers: { authorization: `Bearer ${token}` },
      body: {
        key: status.context,
        state: BITBUCKET_STATES[status.state],
        name: status.context,
        description: status.description,
        url: status.targetUrl ?? webUrl,
        refname: shortRef(status.ref),
      },
      token,
      timeoutMs: this.#options.timeoutMs,
    });
  }
}

/** Bitbucket Data Center (and Server), with an HTTP access token (as a bearer token). */
export class BitbucketDataCenterReporter implements StatusReporter {
  readonly #options: ReporterOptions;

  constructor(options: ReporterOptions = {}) {
    this.#options = options;
  }

  async post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void> {
    if (token === undefined) return;
    const { baseUrl, project, slug, webUrl } = dataCenterRepository(repository.url);
    const link = status.targetUrl ?? webUrl;
    await requestJson({
      host: 'Bitbucket Data Center',
      method: 'POST',
      url: `${baseUrl}/rest/api/latest/projects/${encodeURIComponent(project)}/repos/${encodeURIComponent(slug)}/commits/${status.commit}/builds`,
      headers: { authorization: `Bearer ${token}` },
      body: {
        key: status.context,
        state: DATA_CENTER_STATES[status.state],
        name: status.context,
        description: status.description.slice(0, DATA_CENTER_LENGTH.description),
        url: link.length <= DATA_CENTER_LENGTH.url ? link : webUrl,
        ref: status.ref,
      },
      token,
      timeoutMs: this.#options.timeoutMs,
    });
  }
}
