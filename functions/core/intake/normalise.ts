// One event shape for the ref updates of every Git host, and the push schema that builds it from their payloads:
// every field Ferry reads is checked, and a payload of the wrong shape is refused naming the field. Fields Ferry
// does not read are never walked.
import { COMMIT_ID, SHA256_OBJECT_ID } from '../model/commit.ts';
import type { Provider } from '../model/provider.ts';

export type RefKind = 'branch' | 'tag' | 'other';

interface RefUpdate {
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
  readonly created: boolean;
  /** A forced push; only GitHub and Bitbucket Cloud report it (false when the host does not say). */
  readonly forced: boolean;
  /** Paths added, modified or removed by the pushed commits that the host listed. */
  readonly changedPaths: readonly string[];
  /**
   * Whether `changedPaths` is every path the push changed. It is not when the host truncated its commit list
   * (GitLab lists at most 20 commits, GitHub 2048) or lists no paths at all (Bitbucket), when the ref was
   * created (the host lists no diff against what is deployed) or when the push was forced (dropped commits are
   * not listed). Then every path counts as changed.
   */
  readonly changedPathsComplete: boolean;
}

/** A push of one ref (branch or tag), whichever host sent it: a deletion, or a commit to deploy. */
export type PushEvent = RefUpdate &
  (
    | { readonly deleted: true; readonly commit: undefined }
    | {
        readonly deleted: false;
        /** The commit to deploy (an annotated tag peeled to its commit). */
        readonly commit: string;
      }
  );

/** A payload that does not have the shape of a push; the message names the field. */
export class MalformedPush extends Error {
  override name = 'MalformedPush';
}

/** Longer refs are refused: no Git host makes one, and every job carries its ref. */
export const MAX_REF_LENGTH = 1024;

/** The object id of a created or deleted ref's missing side. */
export const ZERO_ID = '0'.repeat(40);

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

/** The kind and short name of a full ref. */
export function parseRef(ref: string): { kind: RefKind; name: string } {
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return { kind: 'other', name: ref };
}

// Accessors for untrusted JSON: they return undefined rather than throw on an unexpected shape.

export type JsonObject = Readonly<Record<string, unknown>>;

/** Whether a JSON value is an object (not an array, not null). */
export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function objectAt(value: JsonObject | undefined, key: string): JsonObject | undefined {
  const field = value?.[key];
  return isObject(field) ? field : undefined;
}

export function stringAt(value: JsonObject | undefined, key: string): string | undefined {
  const field = value?.[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

export function booleanAt(value: JsonObject, key: string): boolean | undefined {
  const field = value[key];
  return typeof field === 'boolean' ? field : undefined;
}

/** The first of the given fields that holds a usable repository URL, as a repository key. */
export function firstRepositoryKey(candidates: readonly unknown[]): string | undefined {
  for (const url of candidates) {
    const key = typeof url === 'string' ? repositoryKey(url) : undefined;
    if (key !== undefined) return key;
  }
  return undefined;
}

/** The repository of a GitHub or Gitea payload: `repository.clone_url`, else its `html_url`. */
export function cloneUrlRepositoryKey(payload: JsonObject): string | undefined {
  const repository = objectAt(payload, 'repository');
  return firstRepositoryKey([repository?.clone_url, repository?.html_url]);
}

// The push schema: each check throws `MalformedPush` naming the field (`what`).

/** A list field: undefined when absent or null. */
export function listAt(value: JsonObject, key: string, what = key): readonly unknown[] | undefined {
  const field = value[key];
  if (field === undefined || field === null) return undefined;
  if (!Array.isArray(field)) throw new MalformedPush(`"${what}" is not a list`);
  return field;
}

/** An element of a list that must be an object. */
export function objectIn(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new MalformedPush(`"${what}" is not an object`);
  return value;
}

/** A commit id: the one commit-id rule (`COMMIT_ID`), with SHA-256 object ids refused by name. */
export function objectId(value: unknown, what: string): string {
  if (typeof value === 'string' && COMMIT_ID.test(value)) return value;
  if (typeof value === 'string' && SHA256_OBJECT_ID.test(value)) {
    throw new MalformedPush(`"${what}" is a SHA-256 object id: SHA-256 repositories are not supported`);
  }
  throw new MalformedPush(`"${what}" is not a Git object id`);
}

/** An optional object id (e.g. `head_commit.id`, `checkout_sha`): undefined when absent or null. */
export function optionalObjectId(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : objectId(value, what);
}

/** A full ref (`refs/…`) of at most `MAX_REF_LENGTH` characters. */
export function fullRef(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value.startsWith('refs/')) {
    throw new MalformedPush(`"${what}" is not a full ref`);
  }
  if (value.length > MAX_REF_LENGTH) {
    throw new MalformedPush(`"${what}" is longer than ${MAX_REF_LENGTH} characters`);
  }
  return value;
}

/** The ref and object ids of a payload that names them `ref`, `before` and `after` (GitHub, GitLab, Gitea). */
export function refUpdateOf(payload: JsonObject): { ref: string; before: string; after: string } {
  return {
    ref: fullRef(payload.ref, 'ref'),
    before: objectId(payload.before, 'before'),
    after: objectId(payload.after, 'after'),
  };
}

function addPaths(paths: Set<string>, entries: unknown, what: string): void {
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw new MalformedPush(`"${what}" is not a list`);
  for (let i = 0; i < entries.length; i++) {
    const path: unknown = entries[i];
    if (typeof path !== 'string') throw new MalformedPush(`"${what}[${i}]" is not a path`);
    paths.add(path);
  }
}

/**
 * The union of the `added`, `modified` and `removed` lists of a payload's `commits`, in first-seen order, and
 * how many commits it lists.
 */
export function changedPathsOf(payload: JsonObject): { paths: string[]; commits: number } {
  const commits = listAt(payload, 'commits') ?? [];
  // Plain loops and fixed property names: this runs over every commit of every push.
  const paths = new Set<string>();
  for (let i = 0; i < commits.length; i++) {
    const commit = commits[i];
    if (!isObject(commit)) throw new MalformedPush(`"commits[${i}]" is not an object`);
    addPaths(paths, commit.added, `commits[${i}].added`);
    addPaths(paths, commit.modified, `commits[${i}].modified`);
    addPaths(paths, commit.removed, `commits[${i}].removed`);
  }
  return { paths: Array.from(paths), commits: commits.length };
}

export interface PushFields {
  readonly provider: Provider;
  readonly repository: string | undefined;
  /** Checked with `fullRef` and `objectId`. */
  readonly ref: string;
  readonly before: string;
  readonly after: string;
  /** The commit the ref now points to, peeled (e.g. `head_commit.id`, `checkout_sha`); may be absent. */
  readonly peeledCommit?: string | undefined;
  /** The paths the host listed as changed. */
  readonly changedPaths: readonly string[];
  /** Whether the host says it listed every path of every pushed commit. */
  readonly listedEveryPath: boolean;
  /** The host's own flags, when it sends them; else the zero object ids tell. */
  readonly created?: boolean | undefined;
  readonly deleted?: boolean | undefined;
  readonly forced?: boolean | undefined;
}

/** Builds the push event from checked fields. */
export function pushEvent(fields: PushFields): PushEvent {
  if (fields.repository === undefined) throw new MalformedPush('the payload names no repository URL');
  const { ref, before, after } = fields;
  const created = fields.created ?? before === ZERO_ID;
  const deleted = fields.deleted ?? after === ZERO_ID;
  const forced = fields.forced ?? false;
  const { kind, name } = parseRef(ref);
  const update: RefUpdate = {
    provider: fields.provider,
    repository: fields.repository,
    ref,
    refKind: kind,
    refName: name,
    before,
    after,
    created,
    forced,
    changedPaths: fields.changedPaths,
    changedPathsComplete: fields.listedEveryPath && !created && !forced,
  };
  return deleted
    ? { ...update, deleted, commit: undefined }
    : { ...update, deleted, commit: fields.peeledCommit ?? after };
}
