// One PullRequestHost per kind of Git host, as the composition roots hand them to the plan use case.
import type { Provider } from '../../core/model/provider.ts';
import type { PullRequestHost } from '../../core/plan/ports.ts';
import { BitbucketCloudPullRequests, BitbucketDataCenterPullRequests } from './bitbucket.ts';
import { GiteaPullRequests, GitHubPullRequests } from './github.ts';
import { GitLabPullRequests } from './gitlab.ts';
import type { HostClientOptions } from './http.ts';

export function pullRequestHosts(
  options: HostClientOptions = {},
): Readonly<Record<Provider, PullRequestHost>> {
  return {
    github: new GitHubPullRequests(options),
    gitlab: new GitLabPullRequests(options),
    gitea: new GiteaPullRequests(options),
    bitbucket: new BitbucketCloudPullRequests(options),
    'bitbucket-server': new BitbucketDataCenterPullRequests(options),
  };
}
