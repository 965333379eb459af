/**
 * A commit id as Git hosts send it: a full SHA-1 object id. SHA-256 repositories (64 hex digits) are refused
 * at intake with a clear answer: the Git client the worker uses fetches SHA-1 repositories only.
 */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/** A SHA-256 object id, recognised so that it can be refused by name. */
export const SHA256_OBJECT_ID = /^[0-9a-f]{64}$/;

export const isCommitId = (value: unknown): value is string =>
  typeof value === 'string' && COMMIT_ID.test(value);

/** For people and one-line messages: the first 12 hex digits. */
export const short = (commit: string): string => commit.slice(0, 12);
