/** The Git hosts Ferry takes webhooks from and reports to. Forgejo counts as Gitea. */
export const PROVIDERS = ['github', 'gitlab', 'gitea', 'bitbucket', 'bitbucket-server'] as const;

export type Provider = (typeof PROVIDERS)[number];
