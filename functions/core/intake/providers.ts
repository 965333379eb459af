// The Git hosts the intake understands, each as one small object (see `provider-spec.ts`). Detection order
// matters: Gitea and Forgejo also send GitHub's headers, and Bitbucket Cloud's are Data Center's and more.
import { bitbucket } from './bitbucket.ts';
import { bitbucketServer } from './bitbucket-server.ts';
import { gitea } from './gitea.ts';
import { github } from './github.ts';
import { gitlab } from './gitlab.ts';
import type { Headers, ProviderSpec } from './provider-spec.ts';

const PROVIDERS: readonly ProviderSpec[] = [gitea, github, gitlab, bitbucket, bitbucketServer];

/** The host that sent a delivery, or undefined when the headers are none of theirs. */
export function detectProvider(headers: Headers): ProviderSpec | undefined {
  return PROVIDERS.find((provider) => provider.detect(headers));
}
