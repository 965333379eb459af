// What a failed Git operation means for Ferry. Errors of the HTTP client are `Failure`s already (transient);
// isomorphic-git's own errors name either the remote's answer or the state of the local object store.
import git from 'isomorphic-git';
import { classOfStatus, errorMessage, Failure, type FailureClass } from '../../core/errors.ts';
import type { GitRemote } from '../../core/ports.ts';

/** isomorphic-git's errors about the remote's answer, by code, and their class (HTTP errors: by status). */
const REMOTE_ERRORS: ReadonlyMap<string, FailureClass> = new Map<string, FailureClass>([
  [git.Errors.HttpError.code, 'configuration'],
  [git.Errors.SmartHttpError.code, 'configuration'],
  [git.Errors.RemoteCapabilityError.code, 'configuration'],
  [git.Errors.UnknownTransportError.code, 'configuration'],
  [git.Errors.UrlParseError.code, 'configuration'],
  [git.Errors.EmptyServerResponseError.code, 'transient'],
]);

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/**
 * Whether an error comes from the local object store rather than from the remote or Ferry: a truncated pack, a
 * lost object, a half-written index. Such a store is discarded and filled again.
 */
export function isStoreFault(error: unknown): boolean {
  if (error instanceof Failure) return false;
  const code = codeOf(error);
  return typeof code !== 'string' || !REMOTE_ERRORS.has(code);
}

/** The error as a `Failure` of its class, its message `<what>: <reason>`; the token is never part of it. */
export function gitFailure(error: unknown, what: string, remote: GitRemote): Failure {
  const [failureClass, reason] = explain(error, remote);
  return new Failure(failureClass, `${what}: ${reason}`, { cause: error });
}

function explain(error: unknown, remote: GitRemote): [FailureClass, string] {
  if (error instanceof Failure) return [error.failureClass, error.message];
  if (error instanceof git.Errors.HttpError) {
    const status = error.data.statusCode;
    // 408, 429 and 5xx pass; any other refusal (a refused token, no such repository) stays until Ferry's
    // configuration or the host's permissions change.
    const failureClass = classOfStatus(status) === 'transient' ? 'transient' : 'configuration';
    return [failureClass, `HTTP ${status} ${error.data.statusMessage}${statusHint(status, remote)}`];
  }
  if (error instanceof git.Errors.SmartHttpError) {
    return ['configuration', 'the URL does not serve a Git repository over smart HTTP'];
  }
  // Its message is a paragraph asking to report a bug; the detail is what a record needs.
  if (error instanceof git.Errors.InternalError) return ['transient', error.data.message];
  const code = codeOf(error);
  const failureClass = typeof code === 'string' ? REMOTE_ERRORS.get(code) : undefined;
  return [failureClass ?? 'transient', errorMessage(error)];
}

function statusHint(status: number, remote: GitRemote): string {
  const none = ': the repository needs a token and none is configured';
  if (status === 401) return remote.token === undefined ? none : ': the configured token was refused';
  if (status === 403) return remote.token === undefined ? none : ': the configured token may not read it';
  if (status === 404) return ': no such repository, or one that the token may not see';
  return '';
}
