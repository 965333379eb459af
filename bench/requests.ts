// What the benches count of Ferry's requests to the API server, kept apart from the rest of the support so that
// a fresh process measuring Ferry (bench/engine-child.ts) loads nothing Ferry itself would not.
import { KubernetesApi } from '../functions/adapters/kubernetes/api-client.ts';

/** One request Ferry's Kubernetes client sent, as `recordRequests` saw it. */
export interface SentRequest {
  /** `performance.now()` when it was sent. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly dryRun: boolean;
}

/**
 * Records every request that Ferry's Kubernetes client (`KubernetesApi`) sends in this process, whoever made
 * the client: the engine, the handlers' runtimes, the bench itself. `take()` returns those since the last take.
 */
export function recordRequests(): { take(): SentRequest[] } {
  let sent: SentRequest[] = [];
  const original = KubernetesApi.prototype.request;
  KubernetesApi.prototype.request = function (this: KubernetesApi, request) {
    sent.push({
      at: performance.now(),
      method: request.method,
      path: request.path,
      dryRun: request.query?.dryRun !== undefined,
    });
    return original.call(this, request);
  } as typeof original;
  return {
    take() {
      const taken = sent;
      sent = [];
      return taken;
    },
  };
}

/** `412 (3 GET, 300 dry-run, 109 PATCH)`: a count of requests by kind. */
export function describeRequests(sent: readonly SentRequest[]): string {
  const kinds = new Map<string, number>();
  for (const { method, dryRun } of sent) {
    const kind = dryRun ? 'dry-run' : method;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const parts = [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${n} ${kind}`);
  return `${sent.length}${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`;
}

/** The most requests sent within any `windowMs`, as a rate per second. */
export function peakRate(sent: readonly SentRequest[], windowMs = 1000): number {
  const times = sent.map((s) => s.at).sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return (peak * 1000) / windowMs;
}

/** What bench/engine-child.ts reports of its run. */
export interface EngineChildResult {
  readonly objects: number;
  /** From the start of the apply to its end, inside the process. */
  readonly applyMs: number;
  /** From the process's start (Node's time origin) to the end of the apply. */
  readonly processMs: number;
  readonly requests: string;
  readonly requestCount: number;
  readonly maxRssKb: number;
}
