// One classification of failures for intake, deploy and reconcile. Every failure is one of three classes:
// - rejected: the revision's fault (a render error, a schema or admission refusal, an immutable field). It is
//   recorded with every reason and not retried until a new commit or a manual deploy.
// - transient: the world's fault for now (connection errors, timeouts, 429, 5xx, conflicts, a Git host or the
//   secret store unavailable). The queue retries it with backoff, then dead-letters it with an alarm.
// - configuration: Ferry's set-up is wrong (a missing secret, an unknown cluster, refused credentials). It is
//   recorded naming what to fix.

export type FailureClass = 'rejected' | 'transient' | 'configuration';

/** A failure whose class is known where it happened. */
export class Failure extends Error {
  override name = 'Failure';
  readonly failureClass: FailureClass;

  constructor(failureClass: FailureClass, message: string, options?: ErrorOptions) {
    super(message, options);
    this.failureClass = failureClass;
  }
}

/** The `details` of a Kubernetes `Status`: which object, and per field what was wrong. */
export interface StatusDetails {
  readonly kind?: string;
  readonly name?: string;
  readonly causes?: readonly {
    readonly reason?: string;
    readonly message?: string;
    readonly field?: string;
  }[];
}

/** A refused Kubernetes API request: the HTTP status and the API's `Status` reason, message and details. */
export class ClusterApiError extends Error {
  override name = 'ClusterApiError';
  readonly status: number;
  readonly reason: string;
  readonly details: StatusDetails;

  constructor(status: number, reason: string, message: string, details: StatusDetails = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.details = details;
  }

  /** The field causes, with the fields that are missing filled in. */
  get causes(): { reason: string; message: string; field: string }[] {
    return (this.details.causes ?? []).map((c) => ({
      reason: c.reason ?? '',
      message: c.message ?? '',
      field: c.field ?? '',
    }));
  }
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Kubernetes `Status` reasons that a later attempt can get past. */
const TRANSIENT_REASONS = new Set([
  'Conflict',
  'ServerTimeout',
  'Timeout',
  'TooManyRequests',
  'ServiceUnavailable',
  'InternalError',
]);

/** Socket and DNS error codes of Node: the peer is unreachable for now. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_HTTP2_STREAM_ERROR',
]);

/** The class of an HTTP answer's status: 401 is refused credentials, 408/429/5xx pass, other 4xx are final. */
export function classOfStatus(status: number): FailureClass {
  if (status === 401) return 'configuration';
  if (status === 408 || status === 409 || status === 429 || status >= 500 || status === 0) return 'transient';
  return 'rejected';
}

/**
 * The class of any error. Known failures carry theirs; Kubernetes errors are classed by the API's status and
 * reason, never by message text; socket errors and timeouts are transient; anything else is taken as
 * transient, so that the queue retries it and, failing again, dead-letters it with an alarm.
 */
export function classify(error: unknown): FailureClass {
  if (error instanceof Failure) return error.failureClass;
  if (error instanceof ClusterApiError) {
    if (TRANSIENT_REASONS.has(error.reason)) return 'transient';
    // The API server answers an object it cannot convert for server-side apply (a string where the schema
    // wants a number) with a 500 Status that has no reason: the object's fault, unlike `InternalError`.
    if (error.status === 500 && error.reason === '') return 'rejected';
    return classOfStatus(error.status);
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'transient';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return 'transient';
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && cause !== error) return classify(cause);
  return 'transient';
}

export const isTransient = (error: unknown): boolean => classify(error) === 'transient';
