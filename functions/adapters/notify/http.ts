// One outbound webhook request: a POST bounded in time, whose answer is classed like every other failure:
// 408, 429 and 5xx and network errors are transient (tried again), any other refusal is the configuration's.
import { classOfStatus, Failure } from '../../core/errors.ts';
import { clip } from './event.ts';

/** How long one request may take, from connecting to the end of the answer. */
export const NOTIFY_TIMEOUT_MS = 5000;

export interface WebhookRequest {
  /** Names the webhook in failures, e.g. `slack/team-chat`. */
  readonly name: string;
  readonly url: string;
  /** Whether a failure may name the URL's host: not when the URL is itself a secret. */
  readonly showHost: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs?: number;
}

/** Posts the body; resolves on a 2xx answer, else throws a `Failure` that never holds the URL's path. */
export async function postWebhook(request: WebhookRequest): Promise<void> {
  const where = request.showHost ? ` (${new URL(request.url).host})` : '';
  const timeoutMs = request.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  let response: Response;
  let answer: string;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Ferry', ...request.headers },
      body: request.body,
      // A webhook that moved is a configuration to fix, not a place to send the body to unasked.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    answer = await response.text();
  } catch (error) {
    throw new Failure('transient', `${request.name}${where}: ${networkReason(error, timeoutMs)}`);
  }
  if (response.status >= 200 && response.status < 300) return;
  const failureClass = classOfStatus(response.status) === 'transient' ? 'transient' : 'configuration';
  const said = clip(answer.replace(/\s+/g, ' ').trim(), 200);
  throw new Failure(
    failureClass,
    `${request.name}${where}: HTTP ${response.status}${said === '' ? '' : `: ${said}`}`,
  );
}

/** Why a request got no answer, by code or name only: error messages of the client may quote the URL. */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms`;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return `request failed (${code})`;
  }
  return `request failed (${error instanceof Error ? error.name : 'unknown error'})`;
}
