// One request to a Git host's API for the status reporters: bounded in time, and failing with the class the
// StatusReporter port asks for. A token that is refused or a repository the token cannot see (401, 403, 404) is
// configuration; a rate limit, a 5xx, a timeout or a host that cannot be reached is transient; any other refusal
// (a field the host does not take) is rejected. Errors carry the host's answer, never the token.
import { errorMessage, Failure, type FailureClass } from '../../core/errors.ts';

/** How long one request may take, from connecting to the last byte of the answer. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** Sent with every request, as hosts ask API clients to name themselves. */
export const USER_AGENT = 'ferry-status-reporter';

/** The longest part of a host's answer kept in a failure's message. */
const ANSWER_LENGTH = 300;

export interface HostRequest {
  /** The host's kind, as messages name it (`GitLab`). */
  readonly host: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Kept out of every message, should the host echo it. */
  readonly token: string;
  readonly timeoutMs?: number | undefined;
}

/** An answer the host gave with a status of 400 or more. */
export interface HostAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** The class of a refused request: by its status, with the rate-limit signals of a 403 (GitHub's). */
export function classOfAnswer(status: number, headers: Headers): FailureClass {
  if (status === 403 && (headers.get('x-ratelimit-remaining') === '0' || headers.has('retry-after')))
    return 'transient';
  if (status === 401 || status === 403 || status === 404) return 'configuration';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient';
  return 'rejected';
}

/** `<text>` on one line, at most ANSWER_LENGTH characters, with the token (should it be there) replaced. */
export function clipAnswer(text: string, token: string): string {
  const line = (token === '' ? text : text.replaceAll(token, '[token]')).replace(/\s+/g, ' ').trim();
  return line.length <= ANSWER_LENGTH ? line : `${line.slice(0, ANSWER_LENGTH - 1)}…`;
}

/** The path of a URL, which names the repository and commit but never a credential. */
const pathOf = (url: string) => new URL(url).pathname;

/** A refused request as a Failure: `GitLab answered 404 to POST /api/v4/...: {"message":"404 Project Not Found"}`. */
export function answerFailure(request: HostRequest, answer: HostAnswer, hint = ''): Failure {
  const text = clipAnswer(answer.text, request.token);
  return new Failure(
    classOfAnswer(answer.status, answer.headers),
    `${request.host} answered ${answer.status} to ${request.method} ${pathOf(request.url)}${hint}${text === '' ? '' : `: ${text}`}`,
  );
}

/** Why a request got no answer: a timeout, else the socket's error code, looked for along the causes. */
function reasonOf(error: unknown, timeoutMs: number): string {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const { name, code, cause } = e as { name?: unknown; code?: unknown; cause?: unknown };
    if (name === 'TimeoutError') return `no answer in ${timeoutMs / 1000} s`;
    if (typeof code === 'string') return code;
    e = cause;
  }
  return errorMessage(error);
}

/** A request that got no answer (a timeout, a refused connection, a name that does not resolve): transient. */
export function unreachable(request: HostRequest, error: unknown, timeoutMs: number): Failure {
  return new Failure(
    'transient',
    `${request.host} could not be reached for ${request.method} ${pathOf(request.url)}: ${clipAnswer(reasonOf(error, timeoutMs), request.token)}`,
    { cause: error },
  );
}

/**
 * Sends the request with a JSON body (if any) and resolves the answer's JSON (undefined for an empty one). An
 * answer of 400 or more is passed to `refused` first, which may accept it (resolving what to return) or leave it
 * to fail.
 */
export async function requestJson(
  request: HostRequest,
  refused?: (answer: HostAnswer) => { readonly accepted: unknown } | undefined,
): Promise<unknown> {
  const timeoutMs = request.timeoutMs ?? REQUEST_TIMEOUT_MS;
  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: {
        accept: 'application/json',
        'user-agent': USER_AGENT,
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      // Hosts move renamed repositories with a redirect; fetch drops credentials on one to another origin.
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw unreachable(request, error, timeoutMs);
  }
  if (response.status >= 400) {
    const answer = { status: response.status, headers: response.headers, text };
    const accepted = refused?.(answer);
    if (accepted !== undefined) return accepted.accepted;
    throw answerFailure(request, answer);
  }
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The status was posted; an answer that is not JSON (a proxy's page) says nothing more.
    return undefined;
  }
}

/** What every reporter takes. */
export interface ReporterOptions {
  /** Bound on each request (default REQUEST_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}
