// Commit statuses on Gitea and Forgejo (`POST /repos/{owner}/{repo}/statuses/{sha}`), which share the API. A
// status is kept per context; each post adds one and the commit shows the newest.
import type { RepositoryConfig } from '../../core/config.ts';
import type { CommitState } from '../../core/model/feedback.ts';
import type { PostedStatus, StatusReporter } from '../../core/ports.ts';
import { giteaRepository } from './hosts.ts';
import { type ReporterOptions, requestJson } from './http.ts';

/**
 * Gitea's states are pending, success, error, failure and warning. It has no running state: pending with the
 * description. A superseded commit is success, as on GitHub: nothing about it failed, a newer commit of its
 * ref runs, and the description says which. Drift is `warning`: the commit is deployed, its objects changed.
 */
export const GITEA_STATES: Readonly<Record<CommitState, string>> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  superseded: 'success',
  'out-of-sync': 'warning',
};

export class GiteaReporter implements StatusReporter {
  readonly #options: ReporterOptions;

  constructor(options: ReporterOptions = {}) {
    this.#options = options;
  }

  /** Without a token there is nothing to post with: no host takes statuses from anyone. */
  async post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void> {
    if (token === undefined) return;
    const { apiUrl, owner, repo } = giteaRepository(repository.url);
    await requestJson({
      host: 'Gitea',
      method: 'POST',
      url: `${apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${status.commit}`,
      headers: { authorization: `token ${token}` },
      body: {
        state: GITEA_STATES[status.state],
        context: status.context,
        description: status.description,
        ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
      },
      token,
      timeoutMs: this.#options.timeoutMs,
    });
  }
}
