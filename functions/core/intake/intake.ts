// The intake use case: one webhook delivery in, deploy jobs on the queue and an answer for the Git host out.
// Git hosts judge a hook by its status codes: 2xx for everything Ferry receives on purpose (even events it
// ignores: GitLab disables a hook for good after repeated 4xx), 401 for a delivery that is not authentic, other
// 4xx for what can never succeed, and 500 only when a retry can succeed (the queue, the state table or the secret
// store failed).
import { createHash } from 'node:crypto';
import type { AppConfig, Config, RepositoryConfig } from '../config.ts';
import { type DeployJob, jobGroup } from '../jobs.ts';
import type { DeliveryLog, JobQueue, QueuedJob, SecretSource } from '../ports.ts';
import { MalformedPush, type PushEvent, repositoryKey } from './normalise.ts';
import { detectProvider, type ProviderSpec } from './providers.ts';
import {
  bodyFormat,
  bodyOver,
  type DecodedBody,
  decodeBody,
  MalformedBody,
  parsePayload,
  type WebhookRequest,
  type WebhookResponse,
} from './request.ts';
import { matchTriggers } from './triggers.ts';
import { acceptedSecrets } from './verification.ts';

/** Structured logging; Powertools' Logger fits. Attributes never hold a secret, a token or a signature. */
export interface IntakeLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface IntakeDependencies {
  readonly config: Config;
  readonly queue: JobQueue;
  readonly deliveries: DeliveryLog;
  readonly secrets: SecretSource;
  readonly logger: IntakeLogger;
  /** The current time (tests pin it). */
  readonly now?: () => Date;
}

export type Intake = (request: WebhookRequest) => Promise<WebhookResponse>;

/** A job in the answer: what was enqueued, without the trigger. */
export interface EnqueuedJob {
  readonly app: string;
  readonly environment: string;
  readonly part: DeployJob['part'];
  readonly ref: string;
  readonly commit: string;
  readonly group: string;
}

/** The deduplication id of a delivery's job: SHA-256 hex (64 characters, within SQS's 128). */
export function deduplicationId(deliveryKey: string, job: Pick<DeployJob, 'app' | 'environment' | 'part'>) {
  return createHash('sha256')
    .update(`${deliveryKey}\n${job.app}\n${job.environment}\n${job.part}`)
    .digest('hex');
}

/** Delivery ids longer than this (never seen from a real host) are hashed, to keep the state table's keys small. */
const MAX_DELIVERY_ID = 128;

const json = (status: number, body: Record<string, unknown>): WebhookResponse => ({ status, body });

/** Builds the intake for one configuration; repository lookups and glob compilation happen once. */
export function createIntake(dependencies: IntakeDependencies): Intake {
  const { config, queue, deliveries, secrets, logger } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const maxBodyBytes = config.settings.maxWebhookBodyBytes;
  const retainSeconds = config.settings.deliveryRetentionHours * 3600;

  // Repositories by provider and URL identity; one URL may (unusually) be configured more than once.
  const repositories = new Map<string, RepositoryConfig[]>();
  for (const repository of config.repositories) {
    const key = `${repository.provider} ${repositoryKey(repository.url)}`;
    repositories.set(key, [...(repositories.get(key) ?? []), repository]);
  }
  // The apps of each such list of repositories.
  const apps = new Map<readonly RepositoryConfig[], AppConfig[]>();
  for (const list of repositories.values()) {
    const names = new Set(list.map((r) => r.name));
    apps.set(
      list,
      config.apps.filter((app) => names.has(app.repository)),
    );
  }

  return async function intake(request: WebhookRequest): Promise<WebhookResponse> {
    const { headers, body } = request;
    const size = bodyOver(body, maxBodyBytes);
    if (size !== undefined) {
      logger.warn('webhook body over the limit', { bodyBytes: size, maxBodyBytes });
      return json(413, { error: `the body of ${size} bytes is over the limit of ${maxBodyBytes}` });
    }
    const format = bodyFormat(headers['content-type']);
    if (format === undefined) {
      logger.warn('unsupported content type', { contentType: headers['content-type'] });
      return json(415, {
        error: 'the content type must be application/json or application/x-www-form-urlencoded',
      });
    }
    const provider = detectProvider(headers);
    if (provider === undefined) {
      logger.warn('not a webhook delivery of a known Git host', {});
      return json(400, {
        error: 'not a webhook of GitHub, GitLab or Gitea: no X-GitHub-Event, X-Gitlab-Event or X-Gitea-Event',
      });
    }
    const event = provider.event(headers) ?? '';
    let deliveryId = provider.deliveryId(headers) ?? `sha256-${sha256(body)}`;
    if (deliveryId.length > MAX_DELIVERY_ID) deliveryId = `sha256-${sha256(deliveryId)}`;
    const context = { provider: provider.name, deliveryId, event };
    const answer = (status: number, fields: Record<string, unknown>, message: string, extra = {}) => {
      const response = json(status, { delivery: deliveryId, ...fields });
      const attributes = { ...context, status, ...fields, ...extra };
      if (status >= 500) logger.error(message, attributes);
      else if (status >= 400) logger.warn(message, attributes);
      else logger.info(message, attributes);
      return response;
    };

    let decoded: DecodedBody;
    let payload: Readonly<Record<string, unknown>>;
    try {
      decoded = decodeBody(body, format);
    } catch (error) {
      if (!(error instanceof MalformedBody)) throw error;
      return answer(400, { error: `malformed body: ${error.message}` }, 'malformed body');
    }
    try {
      payload = parsePayload(decoded.payloadText);
    } catch (error) {
      if (!(error instanceof MalformedBody)) throw error;
      // Nothing names a repository, so the signature is checked against every secret of the host's
      // repositories: a sender without a secret gets 401 and learns nothing of the body's parsing.
      const candidates = config.repositories.filter((r) => r.provider === provider.name);
      // A secret that cannot be read leaves the delivery unjudged: it is malformed either way, and a 500 would
      // only make the host send the same bytes again.
      const verdict =
        candidates.length === 0 ? undefined : await verify(provider, request, decoded, candidates);
      if (verdict !== undefined && verdict !== 'secret-unavailable' && !verdict.ok) {
        return answer(401, { error: verdict.reason }, 'delivery refused');
      }
      return answer(400, { error: `malformed body: ${error.message}` }, 'malformed body');
    }

    // The repository decides which secret authenticates the delivery, so it is read before verification; nothing
    // else of an unverified payload is used.
    const repositoryId = provider.repository(payload);
    const configured = repositories.get(`${provider.name} ${repositoryId}`) ?? [];
    const kind = provider.kind(event, payload);
    if (configured.length === 0) {
      // Not ours (or configured for another provider): acknowledged, so the host keeps the hook enabled.
      const ignored = `no ${provider.name} repository configured for ${repositoryId ?? 'the payload'}`;
      return kind === 'ping'
        ? answer(200, { ignored: `ping; ${ignored}` }, 'ping for an unknown repository')
        : answer(202, { jobs: [], ignored }, 'delivery for an unknown repository ignored');
    }

    const verdict = await verify(provider, request, decoded, configured);
    if (verdict === 'secret-unavailable') {
      return answer(500, { error: 'the webhook secret could not be read' }, 'webhook secret unavailable');
    }
    if (!verdict.ok) return answer(401, { error: verdict.reason }, 'delivery refused');

    if (kind === 'ping') return answer(200, { ignored: 'ping: the hook is set up' }, 'ping');
    if (kind === 'other') {
      return answer(200, { ignored: `event "${event}" is not handled` }, 'event ignored');
    }

    let push: PushEvent;
    try {
      push = provider.normalise(payload);
    } catch (error) {
      if (!(error instanceof MalformedPush)) throw error;
      return answer(400, { error: `malformed push: ${error.message}` }, 'malformed push');
    }
    const pushContext = { ref: push.ref, commit: push.commit, repository: push.repository };
    if (push.deleted) {
      return answer(200, { ignored: `${push.refKind} deletion` }, 'deletion ignored', pushContext);
    }
    if (push.refKind === 'other') {
      return answer(
        200,
        { ignored: `${push.ref} is neither a branch nor a tag` },
        'ref ignored',
        pushContext,
      );
    }

    const { matches, skipped } = matchTriggers(apps.get(configured) ?? [], push);
    if (matches.length === 0) {
      return answer(
        200,
        { ignored: `no environment is triggered by ${push.ref}`, skipped },
        'push matches no environment',
        { ...pushContext, changedPathsComplete: push.changedPathsComplete },
      );
    }

    // The order below is what keeps every push deployed once, whatever fails:
    // 1. `seen` first: a redelivery, even hours after the queue's 5-minute deduplication window, is acknowledged
    //    and not enqueued again.
    // 2. Enqueue next. If it fails, nothing is recorded and the 500 makes the host retry; the retry is not taken
    //    for a duplicate. If it failed after some jobs were sent, the retry sends them again with the same
    //    deduplication ids, which SQS FIFO drops within its 5-minute window.
    // 3. Record the delivery last, only once every job is on the queue. If recording fails, the 500 makes the
    //    host retry; the jobs it enqueues again are dropped by SQS deduplication (and a retry after that window
    //    would deploy the same commit again, which changes nothing).
    // Recording first instead would turn a failed enqueue into a lost deployment, as the host's retry would be
    // acknowledged as a duplicate. Two concurrent copies of one delivery both pass `seen`; SQS deduplication
    // keeps one of each job.
    const deliveryKey = `${provider.name}#${deliveryId}`;
    const commit = push.commit ?? push.after;
    const enqueuedAt = now().toISOString();
    const queued: QueuedJob[] = [];
    for (const { app, environment, parts } of matches) {
      for (const part of parts) {
        const job: DeployJob = {
          app: app.name,
          environment: environment.name,
          part,
          ref: push.ref,
          commit,
          trigger: { kind: 'push', deliveryId, provider: provider.name },
          enqueuedAt,
        };
        queued.push({ job, deduplicationId: deduplicationId(deliveryKey, job) });
      }
    }
    const jobs: EnqueuedJob[] = queued.map(({ job }) => ({
      app: job.app,
      environment: job.environment,
      part: job.part,
      ref: job.ref,
      commit: job.commit,
      group: jobGroup(job),
    }));

    try {
      if (await deliveries.seen(deliveryKey)) {
        return answer(200, { ignored: 'delivery already handled' }, 'redelivery ignored', pushContext);
      }
    } catch (error) {
      return answer(500, { error: 'the delivery log could not be read' }, 'delivery log failed', { error });
    }
    try {
      await queue.enqueue(queued);
    } catch (error) {
      return answer(500, { error: 'the deploy queue refused the jobs' }, 'enqueue failed', { error, jobs });
    }
    try {
      if (!(await deliveries.remember(deliveryKey, retainSeconds))) {
        logger.info('delivery recorded concurrently; SQS deduplication keeps one of each job', context);
      }
    } catch (error) {
      return answer(500, { error: 'the delivery could not be recorded' }, 'delivery log failed', {
        error,
        jobs,
      });
    }
    // Logged compactly (a group names the app, environment and part): this line is written for every push.
    logger.info('jobs enqueued', {
      ...context,
      ...pushContext,
      status: 202,
      jobs: jobs.map((job) => job.group),
      changedPathsComplete: push.changedPathsComplete,
    });
    return json(202, { delivery: deliveryId, jobs, skipped });
  };

  async function verify(
    provider: ProviderSpec,
    request: WebhookRequest,
    decoded: DecodedBody,
    configured: readonly RepositoryConfig[],
  ) {
    const accepted: string[] = [];
    for (const name of new Set(configured.map((r) => r.webhookSecret))) {
      try {
        accepted.push(...acceptedSecrets(await secrets.getSecret(name)));
      } catch (error) {
        // The message names the secret, never its value.
        logger.error('webhook secret unavailable', { secretName: name, error });
        return 'secret-unavailable' as const;
      }
    }
    return provider.verify({
      headers: request.headers,
      body: request.body,
      decoded,
      secrets: accepted,
      nowSeconds: Math.floor(now().getTime() / 1000),
    });
  }
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
