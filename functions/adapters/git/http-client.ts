// isomorphic-git's own Node client has no timeout: a Git host that accepts a connection and never answers would
// hold a deployment until the function's own timeout kills it, with nothing recorded.
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { errorMessage, Failure } from '../../core/errors.ts';

/**
 * Runs one isomorphic-git operation with an HTTP client in which every request, from connecting to the last byte
 * of the response body, is bounded by `timeoutMs`. When a request failed (a timeout, a network error), the
 * operation fails with that transient `Failure`: isomorphic-git turns an error in mid-body into a parse error of
 * its own, or even into an empty answer that reads as "the repository has no refs".
 */
export async function overHttp<T>(
  timeoutMs: number,
  operation: (http: HttpClient) => Promise<T>,
): Promise<T> {
  const state: RequestState = {};
  let result: T;
  try {
    result = await operation(timedHttpClient(timeoutMs, state));
  } catch (error) {
    throw state.failure ?? error;
  }
  if (state.failure !== undefined) throw state.failure;
  return result;
}

/** The first failed request of an operation. */
type RequestState = { failure?: Failure };

function timedHttpClient(timeoutMs: number, state: RequestState): HttpClient {
  return {
    async request({ url, method = 'GET', headers = {}, body }: GitHttpRequest): Promise<GitHttpResponse> {
      // After a failed request the operation has failed, whatever isomorphic-git made of it: send no more.
      if (state.failure !== undefined) throw state.failure;
      const signal = AbortSignal.timeout(timeoutMs);
      const failure = (error: unknown) => {
        state.failure ??= requestFailure(error, method, url, timeoutMs);
        return state.failure;
      };
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          // One buffer, so that the request has a Content-Length: some hosts hang up on a chunked upload-pack.
          ...(body === undefined ? {} : { body: await collect(body) }),
          signal,
        });
      } catch (error) {
        throw failure(error);
      }
      return {
        url: response.url,
        method,
        statusCode: response.status,
        statusMessage: response.statusText,
        headers: Object.fromEntries(response.headers),
        body: relay(response.body, failure),
      };
    },
  };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The response body as isomorphic-git reads it, its errors (a timeout in mid-body) made `Failure`s. */
async function* relay(
  body: ReadableStream<Uint8Array> | null,
  failure: (error: unknown) => Failure,
): AsyncIterableIterator<Uint8Array> {
  if (body === null) return;
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    throw failure(error);
  }
}

function requestFailure(error: unknown, method: string, url: string, timeoutMs: number): Failure {
  const request = `${method} ${withoutCredentials(url)}`;
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  // Node's fetch says only "fetch failed"; what happened (refused, reset, unknown host) is in its cause.
  const cause = (error as { cause?: unknown } | null)?.cause;
  const reason = timedOut
    ? `no complete answer within ${timeoutMs} ms`
    : errorMessage(cause instanceof Error ? cause : error);
  return new Failure('transient', `${request}: ${reason}`, { cause: error });
}

function withoutCredentials(url: string): string {
  const parsed = URL.parse(url);
  if (parsed === null) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
