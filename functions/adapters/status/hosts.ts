// Where each host's API is, and how it names a repository, read from the repository's clone URL: the hosts'
// own conventions, so that no API URL needs configuring.
import { Failure } from '../../core/errors.ts';

/** A clone URL's origin and path segments, without `.git` and slashes at the end. */
function partsOf(url: string): { origin: string; hostname: string; segments: string[] } {
  const parsed = new URL(url);
  const segments = parsed.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => decodeURIComponent(segment));
  return { origin: parsed.origin, hostname: parsed.hostname, segments };
}

function unreadable(url: string, expected: string): Failure {
  return new Failure(
    'configuration',
    `cannot tell the repository from its URL ${url}: expected ${expected} to post commit statuses`,
  );
}

/** An owner and a repository name, as GitHub, Gitea and Bitbucket Cloud name repositories. */
export interface OwnedRepository {
  readonly apiUrl: string;
  readonly owner: string;
  readonly repo: string;
}

/**
 * GitHub: `github.com` is served at `api.github.com`, GitHub Enterprise Cloud with data residency
 * (`<name>.ghe.com`) at `api.<name>.ghe.com`, and GitHub Enterprise Server at `<host>/api/v3`.
 */
export function githubRepository(url: string): OwnedRepository {
  const { origin, hostname, segments } = partsOf(url);
  const [owner, repo] = segments;
  if (segments.length !== 2 || owner === undefined || repo === undefined)
    throw unreadable(url, 'https://<host>/<owner>/<repository>.git');
  const apiUrl =
    hostname === 'github.com'
      ? 'https://api.github.com'
      : hostname.endsWith('.ghe.com')
        ? `https://api.${hostname}`
        : `${origin}/api/v3`;
  return { apiUrl, owner, repo };
}

/** Gitea and Forgejo: `<host>[/<sub-path>]/api/v1`, the repository being the URL's last two segments. */
export function giteaRepository(url: string): OwnedRepository {
  const { origin, segments } = partsOf(url);
  const [owner, repo] = segments.slice(-2);
  if (owner === undefined || repo === undefined)
    throw unreadable(url, 'https://<host>[/<sub-path>]/<owner>/<repository>.git');
  const subPath = segments
    .slice(0, -2)
    .map((s) => `/${encodeURIComponent(s)}`)
    .join('');
  return { apiUrl: `${origin}${subPath}/api/v1`, owner, repo };
}

/**
 * GitLab: `<host>/api/v4`, the project being its whole path (groups and subgroups included); or, under a relative
 * URL root, the `apiUrl` configured (`<host>/<root>/api/v4`), the project being the path after that root.
 */
export function gitlabProject(
  url: string,
  apiUrl?: string,
): { readonly apiUrl: string; readonly path: string } {
  const { origin, segments } = partsOf(url);
  const root = apiUrl === undefined ? [] : partsOf(apiUrl).segments.slice(0, -2);
  const inRoot = root.every((segment, i) => segments[i] === segment);
  if (!inRoot || segments.length < root.length + 2) {
    const prefix = root.map((s) => `/${s}`).join('');
    throw unreadable(url, `https://<host>${prefix}/<group>[/<subgroup>...]/<project>.git`);
  }
  return {
    apiUrl: apiUrl?.replace(/\/+$/, '') ?? `${origin}/api/v4`,
    path: segments.slice(root.length).join('/'),
  };
}

/** Bitbucket Cloud's API, for every repository on bitbucket.org. */
export const BITBUCKET_CLOUD_API = 'https://api.bitbucket.org/2.0';

/** Bitbucket Cloud: `<workspace>/<repository>`, on its one API (or another given one). */
export function bitbucketRepository(
  url: string,
  apiUrl = BITBUCKET_CLOUD_API,
): OwnedRepository & { readonly webUrl: string } {
  const { origin, segments } = partsOf(url);
  const [owner, repo] = segments;
  if (segments.length !== 2 || owner === undefined || repo === undefined)
    throw unreadable(url, 'https://bitbucket.org/<workspace>/<repository>.git');
  return { apiUrl, owner, repo, webUrl: `${origin}/${segments.join('/')}` };
}

/** A Bitbucket Data Center repository: its server's base URL, project key and repository slug. */
export interface DataCenterRepository {
  /** Where the server lives, with its context path (`https://host/bitbucket`). */
  readonly baseUrl: string;
  readonly project: string;
  readonly slug: string;
  readonly webUrl: string;
}

/** Bitbucket Data Center: HTTP clone URLs are `<base URL>/scm/<project>/<repository>.git`. */
export function dataCenterRepository(url: string): DataCenterRepository {
  const { origin, segments } = partsOf(url);
  const scm = segments.lastIndexOf('scm');
  const project = segments[scm + 1];
  const slug = segments[scm + 2];
  if (scm < 0 || segments.length !== scm + 3 || project === undefined || slug === undefined)
    throw unreadable(url, 'https://<host>[/<context>]/scm/<project>/<repository>.git');
  const baseUrl = `${origin}${segments
    .slice(0, scm)
    .map((s) => `/${encodeURIComponent(s)}`)
    .join('')}`;
  return { baseUrl, project, slug, webUrl: `${baseUrl}/projects/${project}/repos/${slug}` };
}

/** A branch or tag name, as GitLab and Bitbucket Cloud take a ref: `refs/heads/main` is `main`. */
export const shortRef = (ref: string): string => ref.replace(/^refs\/(heads|tags)\//, '');
