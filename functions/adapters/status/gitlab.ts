// Commit statuses on GitLab (`POST /projects/:id/statuses/:sha`). GitLab keeps them as external jobs of a
// pipeline on the commit, with a state machine: posting the state a status already holds is answered 400
// ("Cannot transition status via :run from :running"), which here means it is already there.
//
// A small client on fetch rather than @gitbeaker/rest: the endpoint is one, and gitbeaker's every resource
// would land in the webhook's and the worker's bundles.
import type { RepositoryConfig } from '../../core/config.ts';
import type { CommitState } from '../../core/model/feedback.ts';
import type { PostedStatus, StatusReporter } from '../../core/ports.ts';
import { gitlabProject, shortRef } from './hosts.ts';
import { type HostAnswer, type ReporterOptions, requestJson } from './http.ts';

/**
 * GitLab's states: pending, running, success, failed, canceled (and skipped). A superseded commit is canceled,
 * GitLab's own word for a job that a newer one made moot; drift fails the commit's external job.
 */
export const GITLAB_STATES: Readonly<Record<CommitState, string>> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  superseded: 'canceled',
  'out-of-sync': 'failed',
};

/** GitLab's limit on `ref`, `target_url` and `description`. */
const FIELD_LENGTH = 255;

/** The state is already the one posted (a repeated post, or a retry of one that reached GitLab). */
const alreadyThere = (answer: HostAnswer) =>
  answer.status === 400 && answer.text.includes('Cannot transition status')
    ? { accepted: undefined }
    : undefined;

export class GitLabReporter implements StatusReporter {
  readonly #options: ReporterOptions;

  constructor(options: ReporterOptions = {}) {
    this.#options = options;
  }

  /** Without a token there is nothing to post with: GitLab takes statuses from project members only. */
  async post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void> {
    if (token === undefined) return;
    const { apiUrl, path } = gitlabProject(repository.url, repository.apiUrl);
    const ref = shortRef(status.ref);
    await requestJson(
      {
        host: 'GitLab',
        method: 'POST',
        url: `${apiUrl}/projects/${encodeURIComponent(path)}/statuses/${status.commit}`,
        headers: { 'private-token': token },
        body: {
          state: GITLAB_STATES[status.state],
          name: status.context,
          description: status.description.slice(0, FIELD_LENGTH),
          ...(ref.length <= FIELD_LENGTH ? { ref } : {}),
          // A link over GitLab's limit would make it refuse the status; the status matters more.
          ...(status.targetUrl !== undefined && status.targetUrl.length <= FIELD_LENGTH
            ? { target_url: status.targetUrl }
            : {}),
        },
        token,
        timeoutMs: this.#options.timeoutMs,
      },
      alreadyThere,
    );
  }
}
