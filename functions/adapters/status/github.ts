// Feedback on GitHub, through @octokit/core: a commit status per part (`POST /repos/{owner}/{repo}/statuses/{sha}`)
// and a GitHub Deployment per part and commit, whose deployment statuses put the part in the repository's
// Environments panel (environment `<app>/<environment>`, `/config` added for the configuration part), so that
// it shows what runs where.
import { Octokit } from '@octokit/core';
import type { RepositoryConfig } from '../../core/config.ts';
import { Failure } from '../../core/errors.ts';
import type { CommitState } from '../../core/model/feedback.ts';
import type { PartKey } from '../../core/model/part.ts';
import type { PostedStatus, StatusReporter } from '../../core/ports.ts';
import { githubRepository, type OwnedRepository } from './hosts.ts';
import { answerFailure, REQUEST_TIMEOUT_MS, type ReporterOptions, USER_AGENT, unreachable } from './http.ts';

/**
 * GitHub's commit states are error, failure, pending and success. Running is pending (the description says
 * "deploying"). A superseded commit is success, not error: nothing about it failed, a newer commit of the same
 * ref was deployed in its place (it carries its own result), and an error would put a red cross on every commit
 * of a quick series of pushes and block the pull requests that require the check. Drift is failure: the
 * environment no longer matches the commit.
 */
export const GITHUB_STATES: Readonly<Record<CommitState, 'error' | 'failure' | 'pending' | 'success'>> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  superseded: 'success',
  'out-of-sync': 'failure',
};

type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/**
 * A deployment's states. A superseded commit's deployment is inactive (it no longer runs; one that was never
 * created is not created for it). Drift leaves the deployment as it is: the panel answers what runs where, and
 * the drifted commit still runs there (its commit status says it drifted).
 */
export const DEPLOYMENT_STATES: Readonly<Record<CommitState, DeploymentState | undefined>> = {
  pending: 'queued',
  running: 'in_progress',
  success: 'success',
  failure: 'failure',
  superseded: 'inactive',
  'out-of-sync': undefined,
};

/** The REST API version the requests are written for. */
const API_VERSION = '2022-11-28';

/** Deployment ids known in this process, by repository, environment and commit; the oldest forgotten first. */
const REMEMBERED_DEPLOYMENTS = 500;

/** The environment of a part's deployments: `<app>/<environment>`, plus `/config` for its configuration. */
export function deploymentEnvironment({ app, environment, part }: PartKey): string {
  return part === 'app' ? `${app}/${environment}` : `${app}/${environment}/config`;
}

const QUIET = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export class GitHubReporter implements StatusReporter {
  readonly #timeoutMs: number;
  /** Lookups and creations of deployments, shared by the posts in flight, so that a commit gets one. */
  readonly #deployments = new Map<string, Promise<number | undefined>>();

  constructor(options: ReporterOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /**
   * Posts the commit status and the deployment status side by side. When either fails the post fails (with a
   * transient failure when there is one, so that it is tried again: both are safe to repeat).
   */
  async post(repository: RepositoryConfig, token: string | undefined, status: PostedStatus): Promise<void> {
    if (token === undefined) return;
    const target = githubRepository(repository.url);
    const octokit = new Octokit({ auth: token, baseUrl: target.apiUrl, userAgent: USER_AGENT, log: QUIET });
    const call = <T>(route: string, run: (options: RequestOptions) => Promise<T>) =>
      this.#call(token, target, route, run);
    const results = await Promise.allSettled([
      call('POST /repos/{owner}/{repo}/statuses/{sha}', (request) =>
        octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
          ...request,
          sha: status.commit,
          state: GITHUB_STATES[status.state],
          context: status.context,
          description: status.description,
          ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
        }),
      ),
      this.#deploymentStatus(octokit, call, target, status),
    ]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const transient = failures.find((f) => f instanceof Failure && f.failureClass === 'transient');
    if (failures.length > 0) throw transient ?? failures[0];
  }

  async #deploymentStatus(octokit: Octokit, call: Call, target: OwnedRepository, status: PostedStatus) {
    const state = DEPLOYMENT_STATES[status.state];
    // A plan deploys nothing: its commit gets a status, the Environments panel nothing.
    if (state === undefined || status.subject === 'plan') return;
    const id = await this.#deploymentId(octokit, call, target, status);
    if (id === undefined) return;
    await call('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', (request) =>
      octokit.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        ...request,
        deployment_id: id,
        state,
        description: status.description,
        ...(status.targetUrl === undefined ? {} : { log_url: status.targetUrl }),
      }),
    );
  }

  /** The commit's deployment to the part's environment: found, else created (unless only to retire it). */
  #deploymentId(octokit: Octokit, call: Call, target: OwnedRepository, status: PostedStatus) {
    const environment = deploymentEnvironment(status.key);
    const key = `${target.apiUrl}/${target.owner}/${target.repo}#${environment}@${status.commit}`;
    const known = this.#deployments.get(key);
    if (known !== undefined) return known;
    const lookup = (async () => {
      const found = await call('GET /repos/{owner}/{repo}/deployments', (request) =>
        octokit.request('GET /repos/{owner}/{repo}/deployments', {
          ...request,
          sha: status.commit,
          environment,
          task: 'deploy',
          per_page: 1,
        }),
      );
      const existing = found.data[0]?.id;
      if (existing !== undefined || status.state === 'superseded')
        return existing === undefined ? undefined : Number(existing);
      const created = await call('POST /repos/{owner}/{repo}/deployments', (request) =>
        octokit.request('POST /repos/{owner}/{repo}/deployments', {
          ...request,
          ref: status.commit,
          environment,
          task: 'deploy',
          description: `Ferry: ${environment}`,
          // Ferry's own pending status would otherwise hold the deployment back until the commit is green.
          required_contexts: [],
          auto_merge: false,
          payload: { app: status.key.app, environment: status.key.environment, part: status.key.part },
        }),
      );
      // 202 (a merge of the default branch first) has no id: not with auto_merge off.
      return 'id' in created.data ? Number(created.data.id) : undefined;
    })();
    this.#remember(key, lookup);
    return lookup;
  }

  #remember(key: string, lookup: Promise<number | undefined>): void {
    this.#deployments.set(key, lookup);
    // A failed lookup is not remembered, and an unknown deployment is asked for again next time.
    lookup.then(
      (id) => id === undefined && this.#deployments.delete(key),
      () => this.#deployments.delete(key),
    );
    if (this.#deployments.size > REMEMBERED_DEPLOYMENTS) {
      const oldest = this.#deployments.keys().next().value;
      if (oldest !== undefined) this.#deployments.delete(oldest);
    }
  }

  /** One request, bounded in time, its failure a `Failure` of its class with GitHub's answer. */
  async #call<T>(
    token: string,
    target: OwnedRepository,
    route: string,
    run: (options: RequestOptions) => Promise<T>,
  ): Promise<T> {
    const [method, path] = route.split(' ') as ['GET' | 'POST', string];
    const request = { host: 'GitHub', method, url: `${target.apiUrl}${path}`, headers: {}, token };
    try {
      return await run({
        owner: target.owner,
        repo: target.repo,
        headers: { 'x-github-api-version': API_VERSION },
        request: { signal: AbortSignal.timeout(this.#timeoutMs) },
      });
    } catch (error) {
      const answer = error as { status?: unknown; response?: OctokitAnswer; request?: { url?: unknown } };
      // The URL as sent (the template's values filled in); the token travels in a header, never in it.
      if (typeof answer.request?.url === 'string') request.url = answer.request.url;
      const { status, response } = answer;
      if (typeof status !== 'number' || response === undefined)
        throw unreachable(request, error, this.#timeoutMs);
      const text = typeof response.data === 'string' ? response.data : JSON.stringify(response.data ?? '');
      throw answerFailure(request, { status, headers: new Headers(response.headers), text });
    }
  }
}

/** What every request names: the repository, the API version, and its time bound. */
interface RequestOptions {
  readonly owner: string;
  readonly repo: string;
  readonly headers: { readonly 'x-github-api-version': string };
  readonly request: { readonly signal: AbortSignal };
}

type Call = <T>(route: string, run: (options: RequestOptions) => Promise<T>) => Promise<T>;

/** The part of Octokit's RequestError that says what GitHub answered. */
interface OctokitAnswer {
  readonly headers: Record<string, string>;
  readonly data?: unknown;
}
