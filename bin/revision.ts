// What a person may write wherever a commit is asked for: a full SHA, a unique prefix of one (at least 4 hex
// digits, looked up among the repository's refs and the part's history), a deployment's id or short id, or a
// branch, a tag or a refs/... name.
import { COMMIT_ID, short } from '../functions/core/model/commit.ts';
import type { DeploymentRecord } from '../functions/core/model/records.ts';
import { shortDeploymentId } from '../functions/core/model/status.ts';
import { CliError } from './cli.ts';

export type Resolved =
  | { readonly kind: 'commit'; readonly commit: string }
  | { readonly kind: 'ref'; readonly commit: string; readonly ref: string }
  | { readonly kind: 'deployment'; readonly commit: string; readonly deployment: DeploymentRecord };

export interface RevisionSources {
  /** The repository's refs (as `git ls-remote` lists them), or none when they were not listed. */
  readonly refs: ReadonlyMap<string, string>;
  /** The part's deployments, newest first. */
  readonly history: readonly DeploymentRecord[];
  /** Names the repository in failures. */
  readonly repository: string;
}

const SHORT_SHA = /^[0-9a-f]{4,39}$/;

/** The ref a name stands for: a full ref name, else a branch, else a tag. */
export function refNamed(name: string, refs: ReadonlyMap<string, string>): string | undefined {
  const candidates = name.startsWith('refs/') ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`];
  return candidates.find((candidate) => refs.has(candidate));
}

export function resolveRevision(text: string, sources: RevisionSources): Resolved {
  const name = text.trim();
  if (COMMIT_ID.test(name)) return { kind: 'commit', commit: name };
  const ref = refNamed(name, sources.refs);
  const refCommit = ref === undefined ? undefined : sources.refs.get(ref);
  if (ref !== undefined && refCommit !== undefined) return { kind: 'ref', commit: refCommit, ref };
  const deployment = sources.history.find((d) => d.id === name);
  if (deployment !== undefined) return { kind: 'deployment', commit: deployment.commit, deployment };
  if (!SHORT_SHA.test(name)) {
    throw new CliError(
      `"${name}" is no commit, deployment, branch or tag of repository ${sources.repository} (a short SHA has at least 4 hex digits)`,
    );
  }
  return resolvePrefix(name, sources);
}

/** A hex prefix: of a deployment's short id, of a commit of the refs or of the history; it must be unique. */
function resolvePrefix(prefix: string, sources: RevisionSources): Resolved {
  const deployments = sources.history.filter((d) => shortDeploymentId(d.id).startsWith(prefix));
  const commits = new Set<string>();
  for (const sha of sources.refs.values()) if (sha.startsWith(prefix)) commits.add(sha);
  for (const d of sources.history) {
    for (const sha of [d.commit, d.requestedCommit]) if (sha?.startsWith(prefix)) commits.add(sha);
  }
  const meant = new Set([...commits, ...deployments.map((d) => d.commit)]);
  const [only, ...others] = meant;
  if (only === undefined) {
    throw new CliError(
      `no commit or deployment starts with ${prefix}: none among the refs of repository ${sources.repository} or the part's history (give the full SHA)`,
    );
  }
  if (others.length > 0) {
    const candidates = [
      ...[...commits].map((sha) => `commit ${short(sha)}`),
      ...deployments.map((d) => `deployment ${shortDeploymentId(d.id)} (${short(d.commit)})`),
    ];
    throw new CliError(`${prefix} is ambiguous: ${candidates.join(', ')}; give more digits`);
  }
  const [deployment] = deployments;
  return deployment !== undefined && !commits.has(only)
    ? { kind: 'deployment', commit: only, deployment }
    : { kind: 'commit', commit: only };
}
