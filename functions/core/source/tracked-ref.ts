import picomatch from 'picomatch';
import semver from 'semver';
import type { EnvironmentConfig } from '../config.ts';

const GLOB = /[*?[\]{}!]/;

/**
 * The ref an environment follows and its commit, from a remote's refs (as `git ls-remote` lists them): with tag
 * patterns, the newest matching tag by semantic version; otherwise the first branch pattern that names an
 * existing branch literally (a glob such as `release/*` names no single branch to follow: such environments
 * are deployed by pushes only).
 */
export function trackedHead(
  trigger: EnvironmentConfig['trigger'],
  refs: ReadonlyMap<string, string>,
): { ref: string; commit: string } | undefined {
  if (trigger.tags.length > 0) {
    const matches = picomatch([...trigger.tags], { dot: true, windows: false });
    const tags = [...refs.keys()]
      .filter((ref) => ref.startsWith('refs/tags/'))
      .map((ref) => ref.slice('refs/tags/'.length))
      .filter((tag) => matches(tag) && semver.valid(semver.clean(tag) ?? tag) !== null);
    const [newest] = tags.sort((a, b) => semver.rcompare(semver.clean(a) ?? a, semver.clean(b) ?? b));
    if (newest !== undefined) {
      const ref = `refs/tags/${newest}`;
      return { ref, commit: refs.get(ref) ?? '' };
    }
  }
  for (const branch of trigger.branches) {
    if (GLOB.test(branch)) continue;
    const commit = refs.get(`refs/heads/${branch}`);
    if (commit !== undefined) return { ref: `refs/heads/${branch}`, commit };
  }
  return undefined;
}
