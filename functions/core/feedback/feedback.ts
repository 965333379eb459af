// Feedback where people look: commit statuses on the Git host and messages on changes of state. Posting never
// fails or delays a deployment: each post runs beside the work, is tried a few times with backoff, and a post
// that fails for good is logged with the host's answer and counted. A handler settles the posts before it
// returns.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { classify, errorMessage } from '../errors.ts';
import { type CommitStatus, type SyncChange, statusContext } from '../model/feedback.ts';
import { keyOf } from '../model/part.ts';
import type { Provider } from '../model/provider.ts';
import type { Notifier, SecretSource, StatusReporter } from '../ports.ts';

export interface FeedbackDependencies {
  readonly config: Config;
  readonly secrets: SecretSource;
  /** The reporter of each host kind; a host without one gets no statuses. */
  readonly reporters: Partial<Readonly<Record<Provider, StatusReporter>>>;
  readonly notifiers: readonly Notifier[];
  /** Where a status links to: the status page, or the deployment's logs. */
  readonly targetUrl?: (status: CommitStatus) => string | undefined;
  /** Called for every post that failed for good (a log line and a metric). */
  readonly onFailure?: (what: 'status' | 'notification', detail: Record<string, unknown>) => void;
  /** Tries of one post (default 3) and the first backoff (default 250 ms, doubling). */
  readonly attempts?: number;
  readonly backoffMs?: number;
}

/** The events a use case reports; fire and forget. */
export interface FeedbackEvents {
  status(status: CommitStatus): void;
  changed(change: SyncChange): void;
}

export class Feedback implements FeedbackEvents {
  readonly #deps: FeedbackDependencies;
  readonly #pending = new Set<Promise<void>>();
  /** The last post of each commit and context, which the next one waits for. */
  readonly #lanes = new Map<string, Promise<void>>();

  constructor(deps: FeedbackDependencies) {
    this.#deps = deps;
  }

  status(status: CommitStatus): void {
    const app = this.#deps.config.apps.find((a) => a.name === status.key.app);
    const repository = this.#deps.config.repositories.find((r) => r.name === app?.repository);
    const reporter = repository === undefined ? undefined : this.#deps.reporters[repository.provider];
    if (repository === undefined || reporter === undefined) return;
    const targetUrl = this.#deps.targetUrl?.(status) ?? status.targetUrl;
    const posted = {
      ...status,
      context: statusContext(status.key, status.subject),
      ...(targetUrl === undefined ? {} : { targetUrl }),
    };
    const tokenSecret = repository.statusTokenSecret ?? repository.tokenSecret;
    this.#track(
      'status',
      { ...keyOf(status.key), context: posted.context, commit: status.commit, state: status.state },
      async () => {
        const token = tokenSecret === undefined ? undefined : await this.#deps.secrets.getSecret(tokenSecret);
        await reporter.post(repository, token, posted);
      },
      `${posted.context}@${status.commit}`,
    );
  }

  changed(change: SyncChange): void {
    for (const notifier of this.#deps.notifiers) {
      this.#track(
        'notification',
        { ...keyOf(change.key), notifier: notifier.name, from: change.from, to: change.to },
        () => notifier.notify(change),
      );
    }
  }

  /** Waits for the posts in flight, at most `timeoutMs`; what is still running then is abandoned. */
  async settle(timeoutMs = 5000): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#pending]), sleep(timeoutMs, undefined, { ref: false })]);
  }

  /**
   * Runs a post beside the work. Posts of one `order` key (a commit's status in one context) run one after
   * another, in the order told, so a host never shows `running` after the result.
   */
  #track(
    what: 'status' | 'notification',
    detail: Record<string, unknown>,
    post: () => Promise<void>,
    order?: string,
  ): void {
    const before = order === undefined ? undefined : this.#lanes.get(order);
    const task = (before ?? Promise.resolve())
      .then(() => this.#withRetries(post))
      .catch((error: unknown) => this.#deps.onFailure?.(what, { ...detail, error: errorMessage(error) }));
    this.#pending.add(task);
    if (order !== undefined) this.#lanes.set(order, task);
    void task.finally(() => {
      this.#pending.delete(task);
      if (order !== undefined && this.#lanes.get(order) === task) this.#lanes.delete(order);
    });
  }

  /** Transient failures (rate limits, 5xx, a host down) are tried again; a refusal (401, 404) is final. */
  async #withRetries(post: () => Promise<void>): Promise<void> {
    const attempts = this.#deps.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await post();
      } catch (error) {
        if (attempt >= attempts || classify(error) !== 'transient') throw error;
        await sleep((this.#deps.backoffMs ?? 250) * 2 ** (attempt - 1));
      }
    }
  }
}
