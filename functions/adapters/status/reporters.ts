// One StatusReporter per kind of Git host, as the composition roots hand them to the core's Feedback.
import type { Provider } from '../../core/model/provider.ts';
import type { StatusReporter } from '../../core/ports.ts';
import { BitbucketCloudReporter, BitbucketDataCenterReporter } from './bitbucket.ts';
import { GiteaReporter } from './gitea.ts';
import { GitHubReporter } from './github.ts';
import { GitLabReporter } from './gitlab.ts';
import type { ReporterOptions } from './http.ts';

export function statusReporters(options: ReporterOptions = {}): Readonly<Record<Provider, StatusReporter>> {
  return {
    github: new GitHubReporter(options),
    gitlab: new GitLabReporter(options),
    gitea: new GiteaReporter(options),
    bitbucket: new BitbucketCloudReporter(options),
    'bitbucket-server': new BitbucketDataCenterReporter(options),
  };
}
