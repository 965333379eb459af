// What the pull request adapters share: one bounded request (the status reporters' own, with its failure
// classes and its answers that never carry the token), pages read up to a bound, and who a token is.
import { createHash } from 'node:crypto';
import { Failure, isTransient } from '../../core/errors.ts';
import { answerFailure, type HostRequest, REQUEST_TIMEOUT_MS, requestJson } from '../status/http.ts';

/** Sent with every request, as hosts ask API clients to name themselves. */
const USER_AGENT = 'ferry-plan';

/** Pages read at most for one list; a list longer than that is not read whole. */
export const MAX_PAGES = 10;

export interface HostClientOptions {
  /** Bound on each request (default REQUEST_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}

/** One host's API, with the token as that host takes it. */
export class HostClient {
  readonly #host: string;
  readonly #timeoutMs: number;

  constructor(host: string, options: HostClientOptions = {}) {
    this.#host = host;
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /**
   * The answer's JSON; a refusal or no answer throws a `Failure` of its class, without the token. Answers of
   * `retried` statuses (a conflict on a host that updates at a version) are transient: the job runs again.
   */
  request(
    method: HostRequest['method'],
    url: string,
    token: string,
    headers: Readonly<Record<string, string>>,
    body?: unknown,
    retried: readonly number[] = [],
  ): Promise<unknown> {
    const request: HostRequest = {
      host: this.#host,
      method,
      url,
      headers: { 'user-agent': USER_AGENT, ...headers },
      ...(body === undefined ? {} : { body }),
      token,
      timeoutMs: this.#timeoutMs,
    };
    return requestJson(request, (answer) => {
      if (!retried.includes(answer.status)) return undefined;
      throw new Failure('transient', answerFailure(request, answer).message);
    });
  }
}

/**
 * Reads numbered pages (1, 2, ...) of `size` items until one is short, at most MAX_PAGES: undefined when the
 * list is longer than that.
 */
export async function numberedPages<T>(
  size: number,
  page: (number: number) => Promise<readonly T[]>,
): Promise<T[] | undefined> {
  const items: T[] = [];
  for (let number = 1; number <= MAX_PAGES; number++) {
    const found = await page(number);
    items.push(...found);
    if (found.length < size) return items;
  }
  return undefined;
}

/**
 * Reads pages that name the next one (Bitbucket's `next`, Data Center's `nextPageStart`), at most MAX_PAGES:
 * undefined when the list is longer than that.
 */
export async function linkedPages<T, C>(
  first: C,
  page: (cursor: C) => Promise<{ readonly items: readonly T[]; readonly next: C | undefined }>,
): Promise<T[] | undefined> {
  const items: T[] = [];
  let cursor: C | undefined = first;
  for (let number = 1; cursor !== undefined; number++) {
    if (number > MAX_PAGES) return undefined;
    const found = await page(cursor);
    items.push(...found.items);
    cursor = found.next;
  }
  return items;
}

/** A list in an answer (an array, or `values` of a page), its items as records. */
export function listOf(answer: unknown, key?: string): Record<string, unknown>[] {
  const list = key === undefined ? answer : (answer as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(list)
    ? list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    : [];
}

/** A record in a record, or undefined. */
export function recordAt(value: unknown, key: string): Record<string, unknown> | undefined {
  const field = (value as Record<string, unknown> | undefined)?.[key];
  return typeof field === 'object' && field !== null && !Array.isArray(field)
    ? (field as Record<string, unknown>)
    : undefined;
}

/** Both paths of a changed file (the old one of a rename, a move or a deletion counts too). */
export function pathsOf(...paths: unknown[]): string[] {
  return [...new Set(paths.filter((path): path is string => typeof path === 'string' && path !== ''))];
}

/**
 * Who a token is on its host, asked once per token and process: undefined when the host will not say (a GitHub
 * App's installation token, a Gitea token without `read:user`), and comments are then told by their marker
 * alone. Tokens are kept as hashes.
 */
export class Identities {
  readonly #known = new Map<string, Promise<string | undefined>>();

  of(token: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    let identity = this.#known.get(key);
    if (identity === undefined) {
      identity = ask().catch((error: unknown) => {
        // A refusal stands for the process; a host that did not answer is asked again next time.
        if (isTransient(error)) this.#known.delete(key);
        return undefined;
      });
      this.#known.set(key, identity);
    }
    return identity;
  }
}

/** The comment among `comments` that is Ferry's: the first whose body starts with the marker, by `identity`. */
export function ours<T extends { readonly body: string; readonly author: string | undefined }>(
  comments: readonly T[],
  marker: string,
  identity: string | undefined,
): T | undefined {
  return comments.find(
    (comment) => comment.body.startsWith(marker) && (identity === undefined || comment.author === identity),
  );
}
