import picomatch from 'picomatch';
import semver from 'semver';
import type { EnvironmentConfig } from '../config.ts';

/** Whether a pattern is a glob rather than a literal name. */
export const GLOB = /[*?[\]{}!]/;

export interface Target {
  readonly ref: string;
  readonly commit: string;
}

const TAGS = 'refs/tags/';

/** The newest tag matching the tag patterns by semantic version. */
function newestTag(
  trigger: EnvironmentConfig['trigger'],
  refs: ReadonlyMap<string, string>,
): Target | undefined {
  if (trigger.tags.length === 0) return undefined;
  const matches = picomatch([...trigger.tags], { dot: true, windows: false });
  const version = (tag: string) => semver.clean(tag) ?? tag;
  const [newest] = [...refs.keys()]
    .filter((ref) => ref.startsWith(TAGS))
    .map((ref) => ref.slice(TAGS.length))
    .filter((tag) => matches(tag) && semver.valid(version(tag)) !== null)
    .sort((a, b) => semver.rcompare(version(a), version(b)));
  if (newest === undefined) return undefined;
  const ref = `${TAGS}${newest}`;
  return { ref, commit: refs.get(ref) ?? '' };
}

/**
 * What a part that a job says may be behind should run now, following the ref rather than the job: for a tag,
 * the newest matching tag by semantic version (else that tag's own commit); for a branch, its current head.
 * Undefined when the ref no longer exists.
 */
export function followRef(
  trigger: EnvironmentConfig['trigger'],
  ref: string,
  refs: ReadonlyMap<string, string>,
): Target | undefined {
  if (ref.startsWith(TAGS)) {
    const newest = newestTag(trigger, refs);
    if (newest !== undefined) return newest;
  }
  const commit = refs.get(ref);
  return commit === undefined ? undefined : { ref, commit };
}

/**
 * The ref an environment follows and its commit, from a remote's refs (as `git ls-remote` lists them): with tag
 * patterns, the newest matching tag by semantic version; otherwise the first branch pattern that names an
 * existing branch literally (a glob such as `release/*` names no single branch to follow: such environments
 * are deployed by pushes only).
 */
export function trackedHead(
  trigger: EnvironmentConfig['trigger'],
  refs: ReadonlyMap<string, string>,
): Target | undefined {
  const tag = newestTag(trigger, refs);
  if (tag !== undefined) return tag;
  for (const branch of trigger.branches) {
    if (GLOB.test(branch)) continue;
    const commit = refs.get(`refs/heads/${branch}`);
    if (commit !== undefined) return { ref: `refs/heads/${branch}`, commit };
  }
  return undefined;
}
