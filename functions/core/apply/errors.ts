import { ClusterApiError, classify, Failure, type FailureClass } from '../errors.ts';
import type { ObjectResult } from '../model/inventory.ts';

/** The messages of failed objects, one per line. */
export const list = (results: readonly ObjectResult[]) => results.map((r) => `- ${r.message}`).join('\n');

/** The revision failed validation: nothing was applied. Every rejected object is listed. */
export class RevisionRejected extends Failure {
  override name = 'RevisionRejected';
  /** The rejected objects, as the deployment records them (under the name `ApplyFailed` uses too). */
  readonly results: readonly ObjectResult[];

  constructor(rejections: readonly ObjectResult[]) {
    super('rejected', `${rejections.length} object(s) rejected, nothing applied:\n${list(rejections)}`);
    this.results = rejections;
  }
}

/**
 * Applying stopped part-way: earlier stages and the stage's other objects are applied. Transient when any of
 * the failures was (the retry applies the whole revision again), else rejected.
 */
export class ApplyFailed extends Failure {
  override name = 'ApplyFailed';
  readonly results: readonly ObjectResult[];

  constructor(failureClass: FailureClass, message: string, results: readonly ObjectResult[]) {
    super(failureClass, message);
    this.results = results;
  }
}

/** The class of a set of per-object errors: transient when any is, so that the whole step is tried again. */
export const classOfAll = (errors: readonly unknown[]): FailureClass =>
  errors.some((error) => classify(error) === 'transient')
    ? 'transient'
    : errors.some((error) => classify(error) === 'configuration')
      ? 'configuration'
      : 'rejected';

/** The API server refused a change to a field that cannot change once set (e.g. a selector, a Job's template). */
export function isImmutableFieldError(error: unknown): boolean {
  return (
    error instanceof ClusterApiError &&
    error.status === 422 &&
    error.causes.some((cause) => cause.reason === 'FieldValueInvalid' && /immutable/i.test(cause.message))
  );
}

/** The object's namespace does not exist (yet): a NotFound whose details name a namespace. */
export function isMissingNamespaceError(error: unknown): boolean {
  return error instanceof ClusterApiError && error.status === 404 && error.details.kind === 'namespaces';
}
