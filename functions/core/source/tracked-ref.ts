import picomatch from 'picomatch';
import semver from 'semver';
import type { EnvironmentConfig } from '../config.ts';
import { durationSeconds } from '../duration.ts';
import { short } from '../model/commit.ts';
import type { EnvironmentState } from '../model/records.ts';

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

/** What a follower may deploy now: the followed environment's commit once healthy long enough, or why not. */
export type Promotion =
  | { readonly kind: 'ready'; readonly target: Target; readonly message: string }
  | { readonly kind: 'waiting'; readonly message: string };

/** `1h5m`, `2m30s`, `0s`. */
function formatSeconds(total: number): string {
  const s = Math.max(0, Math.floor(total));
  const parts = [
    [Math.floor(s / 3600), 'h'] as const,
    [Math.floor(s / 60) % 60, 'm'] as const,
    [s % 60, 's'] as const,
  ];
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, unit]) => `${n}${unit}`)
      .join('') || '0s'
  );
}

/**
 * The commit a follower deploys: the one the followed environment (`leader`, the same part of it) has run
 * Synced, which Ferry records only once every object was Current, for at least `healthyFor` since it was
 * applied; nothing else. A deployment of it that failed, or drift found since, restarts the wait.
 */
export function promotion(
  follow: NonNullable<EnvironmentConfig['follow']>,
  leader: EnvironmentState | undefined,
  now: number,
): Promotion {
  const name = follow.environment;
  const applied = leader?.lastApplied;
  if (leader === undefined || applied === undefined)
    return { kind: 'waiting', message: `waiting for ${name}: it has applied nothing yet` };
  const { sync } = leader;
  if (sync.status !== 'Synced') {
    const at = short(sync.commit ?? applied.commit);
    return { kind: 'waiting', message: `waiting for ${name}: it is ${sync.status} at ${at}, not Synced` };
  }
  const ran = (now - Date.parse(applied.appliedAt)) / 1000;
  const what = `${name} has run ${short(applied.commit)} Synced for ${formatSeconds(ran)}`;
  if (ran < durationSeconds(follow.healthyFor))
    return { kind: 'waiting', message: `waiting for ${name}: ${what} of ${follow.healthyFor}` };
  return {
    kind: 'ready',
    target: { ref: applied.ref, commit: applied.commit },
    message: `${what} (at least ${follow.healthyFor})`,
  };
}
