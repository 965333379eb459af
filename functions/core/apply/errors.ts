import { ClusterApiError } from '../ports.ts';
import type { ObjectResult } from './inventory.ts';

/** The revision failed validation: nothing was applied. Every rejected object is listed. */
export class RevisionRejected extends Error {
  override name = 'RevisionRejected';
  readonly rejections: readonly ObjectResult[];

  constructor(rejections: readonly ObjectResult[]) {
    super(
      `${rejections.length} object(s) rejected, nothing applied:\n${rejections.map((r) => `- ${r.message}`).join('\n')}`,
    );
    this.rejections = rejections;
  }
}

/** Applying a stage failed part-way: earlier stages and the stage's other objects are applied. */
export class ApplyFailed extends Error {
  override name = 'ApplyFailed';
  readonly results: readonly ObjectResult[];

  constructor(message: string, results: readonly ObjectResult[]) {
    super(message);
    this.results = results;
  }
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The API server refused a change to a field that cannot change once set (e.g. a selector, a Job's template). */
export function isImmutableFieldError(error: unknown): boolean {
  return error instanceof ClusterApiError && error.status === 422 && /immutable/i.test(error.message);
}

/** The object's namespace does not exist (yet). */
export function isMissingNamespaceError(error: unknown): boolean {
  return (
    error instanceof ClusterApiError &&
    error.status === 404 &&
    /namespaces? "[^"]+" not found/.test(error.message)
  );
}
