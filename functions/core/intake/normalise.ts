// One event shape for the pushes of every Git host, and the helpers that build it from their payloads.
import type { Provider } from './request.ts';

export type RefKind = 'branch' | 'tag' | 'other';

/** A push of one ref (branch or tag), whichever host sent it. */
export interface PushEvent {
  readonly provider: Provider;
  /** The repository's identity: see `repositoryKey`. */
  readonly repository: string;
  /** The full ref, e.g. `refs/heads/main` or `refs/tags/v1.4.0`. */
  readonly ref: string;
  readonly refKind: RefKind;
  /** The branch or tag name (the full ref for other kinds). */
  readonly refName: string;
  /** Object ids before and after the push; all zeros when the ref was created or deleted. */
  readonly before: string;
  readonly after: string;
  /** The commit to deploy (an annotated tag peeled to its commit); undefined for a deletion. */
  readonly commit: string | undefined;
  readonly created: boolean;
  readonly deleted: boolean;
  /** A forced push; only GitHub reports it (false when the host does not say). */
  readonly forced: boolean;
  /** Paths added, modified or removed by the pushed commits that the host listed. */
  readonly changedPaths: readonly string[];
  /**
   * Whether `changedPaths` is every path the push changed. It is not when the host truncated its commit list
   * (GitLab lists at most 20 commits, GitHub 2048), when the ref was created (the host lists no diff against
   * what is deployed) or when the push was forced (dropped commits are not listed). Then every path counts as
   * changed.
   */
  readonly changedPathsComplete: boolean;
}

/** A payload that does not have the shape of a push. */
export class MalformedPush extends Error {
  override name = 'MalformedPush';
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ZERO_ID = /^0+$/;

/**
 * The identity of a repository URL, so that `https://host/o/r.git`, `https://host/o/r`, `http://HOST/O/R/` and
 * `https://user@host/o/r` are the same repository: host (and a non-default port) and path, lower-cased, without
 * scheme, credentials, trailing slashes or `.git`. Undefined for something that is not an HTTP(S) URL.
 */
export function repositoryKey(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const path = parsed.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  return `${parsed.host}${path}`.toLowerCase();
}

export function isZeroId(id: string): boolean {
  return ZERO_ID.test(id);
}

/** The kind and short name of a full ref. */
export function parseRef(ref: string): { kind: RefKind; name: string } {
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return { kind: 'other', name: ref };
}

// Accessors for untrusted JSON: they return undefined rather than throw on an unexpected shape.

export type JsonObject = Readonly<Record<string, unknown>>;

export function objectAt(value: unknown, key: string): JsonObject | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as JsonObject)[key];
  return typeof field === 'object' && field !== null && !Array.isArray(field)
    ? (field as JsonObject)
    : undefined;
}

export function stringAt(value: JsonObject | undefined, key: string): string | undefined {
  const field = value?.[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

export function arrayAt(value: JsonObject | undefined, key: string): readonly unknown[] | undefined {
  const field = value?.[key];
  return Array.isArray(field) ? field : undefined;
}

/** The first of the given fields that holds a usable repository URL, as a repository key. */
export function firstRepositoryKey(candidates: readonly (string | undefined)[]): string | undefined {
  for (const url of candidates) {
    if (url === undefined) continue;
    const key = repositoryKey(url);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** The repository of a GitHub or Gitea payload: `repository.clone_url`, else its `html_url`. */
export function cloneUrlRepositoryKey(payload: JsonObject): string | undefined {
  const repository = objectAt(payload, 'repository');
  return firstRepositoryKey([stringAt(repository, 'clone_url'), stringAt(repository, 'html_url')]);
}

/** A required object id field of a push payload. */
export function objectIdAt(payload: JsonObject, key: string): string {
  const id = payload[key];
  if (typeof id !== 'string' || !OBJECT_ID.test(id)) {
    throw new MalformedPush(`"${key}" is not a Git object id`);
  }
  return id;
}

/** An optional object id (e.g. `head_commit.id`, `checkout_sha`): undefined when absent or null. */
export function optionalObjectId(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !OBJECT_ID.test(value)) {
    throw new MalformedPush(`"${what}" is not a Git object id`);
  }
  return value;
}

function addPaths(paths: Set<string>, entries: unknown, list: string): void {
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw new MalformedPush(`a commit's "${list}" is not a list`);
  for (let i = 0; i < entries.length; i++) {
    const path: unknown = entries[i];
    if (typeof path !== 'string') throw new MalformedPush(`a commit's "${list}" holds a non-string`);
    paths.add(path);
  }
}

/** The union of the `added`, `modified` and `removed` lists of a payload's commits, in first-seen order. */
export function changedPathsOf(commits: readonly unknown[]): string[] {
  // Plain loops and fixed property names: this runs over every commit of every push.
  const paths = new Set<string>();
  for (let i = 0; i < commits.length; i++) {
    const commit = commits[i] as { added?: unknown; modified?: unknown; removed?: unknown } | null;
    if (typeof commit !== 'object' || commit === null) throw new MalformedPush('a commit is not an object');
    addPaths(paths, commit.added, 'added');
    addPaths(paths, commit.modified, 'modified');
    addPaths(paths, commit.removed, 'removed');
  }
  return Array.from(paths);
}

export interface PushFields {
  readonly provider: Provider;
  readonly repository: string | undefined;
  readonly payload: JsonObject;
  /** The commit the ref now points to, peeled (e.g. `head_commit.id`, `checkout_sha`); may be absent. */
  readonly peeledCommit: string | undefined;
  /** The commits the host listed. */
  readonly commits: readonly unknown[];
  /** Whether the host says it listed every pushed commit. */
  readonly commitListComplete: boolean;
  /** The host's own flags, when it sends them. */
  readonly created?: boolean | undefined;
  readonly deleted?: boolean | undefined;
  readonly forced?: boolean | undefined;
}

/** Builds the push event from the fields every host sends under the same names: `ref`, `before`, `after`. */
export function pushEvent(fields: PushFields): PushEvent {
  const { payload } = fields;
  if (fields.repository === undefined) throw new MalformedPush('the payload names no repository URL');
  const ref = payload.ref;
  if (typeof ref !== 'string' || !ref.startsWith('refs/')) throw new MalformedPush('"ref" is not a full ref');
  const before = objectIdAt(payload, 'before');
  const after = objectIdAt(payload, 'after');
  const created = fields.created ?? isZeroId(before);
  const deleted = fields.deleted ?? isZeroId(after);
  const forced = fields.forced ?? false;
  const { kind, name } = parseRef(ref);
  const changedPaths = changedPathsOf(fields.commits);
  return {
    provider: fields.provider,
    repository: fields.repository,
    ref,
    refKind: kind,
    refName: name,
    before,
    after,
    commit: deleted ? undefined : (fields.peeledCommit ?? after),
    created,
    deleted,
    forced,
    changedPaths,
    changedPathsComplete: fields.commitListComplete && !created && !forced,
  };
}
