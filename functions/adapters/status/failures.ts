// What a composition root does with a post that failed for good: one log line with the host's answer (the
// reporters' messages carry it, never a token), then whatever the root counts it in.
import type { FeedbackDependencies } from '../../core/feedback/feedback.ts';

type OnFailure = NonNullable<FeedbackDependencies['onFailure']>;

export interface FailureLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}

export function onFeedbackFailure(log: FailureLog, count: OnFailure): OnFailure {
  return (what, detail) => {
    log.warn(what === 'status' ? 'commit status not posted' : 'notification not sent', detail);
    count(what, detail);
  };
}
