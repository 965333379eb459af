// The intake use case: one webhook delivery in, deploy jobs (or a pull request's plan jobs) on the queue and an
// answer for the Git host out, in named steps: screen (size, content type, host), authenticate, classify, make
// the jobs, enqueue and remember.
// Git hosts judge a hook by its status codes: 2xx for everything Ferry receives on purpose, even events it
// ignores (GitLab disables a hook for a while after four failed answers in a row, of any status, and for good
// after forty), 401 for a delivery that is not authentic, other 4xx for what can never succeed, and 500 only
// when a retry can succeed (the queue, the state table or the secret store failed). Nothing throws past the
// answer.
import { createHash } from 'node:crypto';
import type { AppConfig, Config, RepositoryConfig } from '../config.ts';
import type { FeedbackEvents } from '../feedback/feedback.ts';
import { createJob, type DeployJob, isPlanJob, jobGroup } from '../model/job.ts';
import { findPart, keyOf, type PartName } from '../model/part.ts';
import type { Provider } from '../model/provider.ts';
import type { DeliveryLog, JobQueue, SecretSource } from '../ports.ts';
import { answer, clip, type DeliveryContext, type Fields, type IntakeLogger, refuse } from './answer.ts';
import { type JsonObject, MalformedPush, type PushEvent, repositoryKey, ZERO_ID } from './normalise.ts';
import { planPullRequest } from './plans.ts';
import type { EventKind, ProviderSpec } from './provider-spec.ts';
import { detectProvider } from './providers.ts';
import {
  type BodyFormat,
  bodyFormat,
  bodyOver,
  type DecodedBody,
  decodeBody,
  MalformedBody,
  parsePayload,
  type WebhookRequest,
  type WebhookResponse,
} from './request.ts';
import { createSecretReader, type SecretReader } from './secrets.ts';
import {
  concernsEveryChange,
  type EnvironmentMatch,
  matchTriggers,
  type SkippedEnvironment,
} from './triggers.ts';

export interface IntakeDependencies {
  readonly config: Config;
  readonly queue: JobQueue;
  readonly deliveries: DeliveryLog;
  readonly secrets: SecretSource;
  readonly logger: IntakeLogger;
  /** Commit statuses: each enqueued job's commit is marked pending. */
  readonly feedback?: FeedbackEvents;
  /** The current time (tests pin it). */
  readonly now?: () => Date;
}

export type Intake = (request: WebhookRequest) => Promise<WebhookResponse>;

/** A job in the answer: what was enqueued, without the trigger; `group` is its part's id. */
interface EnqueuedJob {
  readonly app: string;
  readonly environment: string;
  readonly part: PartName;
  readonly ref: string;
  readonly commit: string;
  readonly group: string;
}

/** What the intake knows of the configuration, indexed once. */
interface Setup {
  readonly config: Config;
  readonly logger: IntakeLogger;
  readonly queue: JobQueue;
  readonly deliveries: DeliveryLog;
  readonly now: () => Date;
  readonly feedback: FeedbackEvents | undefined;
  readonly maxBodyBytes: number;
  readonly retainSeconds: number;
  readonly readSecrets: SecretReader;
  /** Repositories by `<provider> <repositoryKey>`; one URL may (unusually) be configured more than once. */
  readonly repositories: ReadonlyMap<string, readonly RepositoryConfig[]>;
  /** Every repository of each provider. */
  readonly byProvider: ReadonlyMap<Provider, readonly RepositoryConfig[]>;
  readonly apps: ReadonlyMap<readonly RepositoryConfig[], readonly AppConfig[]>;
}

/** A delivery past the screen. */
interface Delivery {
  readonly request: WebhookRequest;
  readonly format: BodyFormat;
  readonly host: ProviderSpec;
  /** The event name as sent (matched whole; `context.event` is what logs show). */
  readonly event: string;
  readonly context: DeliveryContext;
}

/** An authentic delivery for configured repositories. */
interface Authentic {
  readonly payload: JsonObject;
  readonly kind: EventKind;
  readonly repositories: readonly RepositoryConfig[];
}

/** A push that deploys: the environments each of its refs triggers. */
interface Deploying {
  readonly pushes: readonly PushEvent[];
  readonly matches: readonly {
    readonly push: PushEvent & { deleted: false };
    readonly match: EnvironmentMatch;
  }[];
  readonly skipped: readonly SkippedEnvironment[];
}

/** The jobs a delivery enqueues: a push's deployments or a pull request's plans, with what the logs say of it. */
interface Enqueueing {
  readonly jobs: readonly DeployJob[];
  readonly skipped: readonly SkippedEnvironment[];
  readonly logged: Fields;
}

/** Delivery ids longer than this (never seen from a real host) are hashed, to keep the state table's keys small. */
const MAX_DELIVERY_ID = 128;

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const isAnswer = (value: object): value is WebhookResponse => 'status' in value;

/** Builds the intake for one configuration; repository lookups and glob compilation happen once. */
export function createIntake(dependencies: IntakeDependencies): Intake {
  const setup = prepare(dependencies);
  return async function intake(request) {
    try {
      return await receive(setup, request);
    } catch (error) {
      // A bug. The intake, its clients and its cached secrets stay for the next delivery.
      setup.logger.error('intake failed', { error });
      return { status: 500, body: { error: 'internal error' } };
    }
  };
}

function prepare(dependencies: IntakeDependencies): Setup {
  const { config } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const repositories = new Map<string, RepositoryConfig[]>();
  const byProvider = new Map<Provider, RepositoryConfig[]>();
  for (const repository of config.repositories) {
    const key = `${repository.provider} ${repositoryKey(repository.url)}`;
    repositories.set(key, [...(repositories.get(key) ?? []), repository]);
    byProvider.set(repository.provider, [...(byProvider.get(repository.provider) ?? []), repository]);
  }
  const apps = new Map<readonly RepositoryConfig[], AppConfig[]>();
  for (const list of repositories.values()) {
    const names = new Set(list.map((r) => r.name));
    apps.set(
      list,
      config.apps.filter((app) => names.has(app.repository)),
    );
  }
  return {
    config,
    logger: dependencies.logger,
    queue: dependencies.queue,
    deliveries: dependencies.deliveries,
    now,
    feedback: dependencies.feedback,
    maxBodyBytes: config.settings.maxWebhookBodyBytes,
    retainSeconds: config.settings.deliveryRetentionHours * 3600,
    readSecrets: createSecretReader(dependencies.secrets, now),
    repositories,
    byProvider,
    apps,
  };
}

async function receive(setup: Setup, request: WebhookRequest): Promise<WebhookResponse> {
  const delivery = screen(setup, request);
  if (isAnswer(delivery)) return delivery;
  const authentic = await authenticate(setup, delivery);
  if (isAnswer(authentic)) return authentic;
  const enqueueing =
    authentic.kind === 'pull-request'
      ? classifyPullRequest(setup, delivery, authentic)
      : classify(setup, delivery, authentic);
  if (isAnswer(enqueueing)) return enqueueing;
  return enqueueAndRemember(setup, delivery, enqueueing);
}

/** Size, content type and host, before anything else is read. */
function screen(setup: Setup, request: WebhookRequest): Delivery | WebhookResponse {
  const { headers, body } = request;
  const { logger, maxBodyBytes } = setup;
  const size = bodyOver(body, maxBodyBytes);
  if (size !== undefined) {
    const error = `the body of ${size} bytes is over the limit of ${maxBodyBytes}`;
    return refuse(logger, 413, error, 'webhook body over the limit', { bodyBytes: size, maxBodyBytes });
  }
  const format = bodyFormat(headers['content-type']);
  if (format === undefined) {
    const error = 'the content type must be application/json or application/x-www-form-urlencoded';
    const contentType = clip(headers['content-type'] ?? '');
    return refuse(logger, 415, error, 'unsupported content type', { contentType });
  }
  const host = detectProvider(headers);
  if (host === undefined) {
    const error =
      'not a webhook of GitHub, GitLab, Gitea or Bitbucket: no X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Event-Key';
    return refuse(logger, 400, error, 'not a webhook delivery of a known Git host', {});
  }
  const event = host.event(headers) ?? '';
  let deliveryId = host.deliveryId(headers) ?? `sha256-${sha256(body)}`;
  if (deliveryId.length > MAX_DELIVERY_ID) deliveryId = `sha256-${sha256(deliveryId)}`;
  return { request, format, host, event, context: { provider: host.name, deliveryId, event: clip(event) } };
}

/**
 * The payload and the repositories it names, once the delivery is authentic. The repository decides which secret
 * authenticates the delivery, so it is read before verification; nothing else of an unverified payload is used.
 */
async function authenticate(setup: Setup, delivery: Delivery): Promise<Authentic | WebhookResponse> {
  const { context, host } = delivery;
  const reply = (status: number, fields: Fields, message: string) =>
    answer(setup.logger, context, status, fields, message);
  let decoded: DecodedBody;
  let payload: JsonObject;
  try {
    decoded = decodeBody(delivery.request.body, delivery.format);
  } catch (error) {
    if (!(error instanceof MalformedBody)) throw error;
    return reply(400, { error: `malformed body: ${clip(error.message)}` }, 'malformed body');
  }
  try {
    payload = parsePayload(decoded.payloadText);
  } catch (error) {
    if (!(error instanceof MalformedBody)) throw error;
    return refuseMalformed(setup, delivery, decoded, `malformed body: ${clip(error.message)}`);
  }
  const repositoryId = host.repository(payload);
  const repositories = setup.repositories.get(`${host.name} ${repositoryId}`) ?? [];
  const kind = host.kind(delivery.event, payload);
  if (repositories.length === 0) {
    // Not ours (or configured for another provider): acknowledged, so the host keeps the hook enabled.
    const ignored = `no ${host.name} repository configured for ${clip(repositoryId ?? 'the payload')}`;
    return kind === 'ping'
      ? reply(200, { ignored: `ping; ${ignored}` }, 'ping for an unknown repository')
      : reply(202, { jobs: [], ignored }, 'delivery for an unknown repository ignored');
  }
  const { verdict, unreadable } = await verify(setup, delivery, decoded, repositories);
  if (!verdict.ok) {
    // A secret that could not be read may be the one the delivery is signed with: the host's retry may pass.
    const failure = unreadable[0];
    return failure === undefined
      ? reply(401, { error: verdict.reason }, 'delivery refused')
      : reply(500, { error: failure.answer }, 'webhook secret unavailable');
  }
  return { payload, kind, repositories };
}

/**
 * The answer to a body that holds no payload. Nothing names a repository, so the signature is checked against
 * every secret of the host's repositories: a sender without one gets 401 and learns nothing of the body.
 */
async function refuseMalformed(setup: Setup, delivery: Delivery, decoded: DecodedBody, error: string) {
  const candidates = setup.byProvider.get(delivery.host.name) ?? [];
  const { verdict } =
    candidates.length === 0 ? { verdict: undefined } : await verify(setup, delivery, decoded, candidates);
  return verdict === undefined || verdict.ok
    ? answer(setup.logger, delivery.context, 400, { error }, 'malformed body')
    : answer(setup.logger, delivery.context, 401, { error: verdict.reason }, 'delivery refused');
}

/** Checks the delivery with every secret of `repositories` that can be read. */
async function verify(
  setup: Setup,
  delivery: Delivery,
  decoded: DecodedBody,
  repositories: readonly RepositoryConfig[],
) {
  const read = await setup.readSecrets([...new Set(repositories.map((r) => r.webhookSecret))]);
  for (const { name, failureClass, message } of read.unreadable) {
    setup.logger.error('webhook secret unavailable', {
      ...delivery.context,
      secretName: name,
      failureClass,
      reason: message,
    });
  }
  const verdict = await delivery.host.verify({
    headers: delivery.request.headers,
    body: delivery.request.body,
    decoded,
    secrets: read.secrets,
    nowSeconds: Math.floor(setup.now().getTime() / 1000),
  });
  return { verdict, unreadable: read.unreadable };
}

/** What an authentic delivery asks: a ping or another event is acknowledged, a push is matched with triggers. */
function classify(setup: Setup, delivery: Delivery, authentic: Authentic): Enqueueing | WebhookResponse {
  const reply = (status: number, fields: Fields, message: string, extra?: Fields) =>
    answer(setup.logger, delivery.context, status, fields, message, extra);
  if (authentic.kind === 'ping') return reply(200, { ignored: 'ping: the hook is set up' }, 'ping');
  if (authentic.kind === 'other') {
    return reply(200, { ignored: `event "${delivery.context.event}" is not handled` }, 'event ignored');
  }
  let pushes: readonly PushEvent[];
  try {
    pushes = delivery.host.normalise(authentic.payload);
  } catch (error) {
    if (!(error instanceof MalformedPush)) throw error;
    return reply(400, { error: `malformed push: ${clip(error.message)}` }, 'malformed push');
  }
  const apps = setup.apps.get(authentic.repositories) ?? [];
  const matches: Deploying['matches'][number][] = [];
  const skipped: SkippedEnvironment[] = [];
  const ignored: string[] = [];
  for (const push of pushes) {
    if (push.deleted) {
      ignored.push(`${push.refKind} deletion`);
      continue;
    }
    if (push.refKind === 'other') {
      ignored.push(`${clip(push.ref)} is neither a branch nor a tag`);
      continue;
    }
    const result = matchTriggers(apps, push);
    skipped.push(...result.skipped);
    matches.push(...result.matches.map((match) => ({ push, match })));
    if (result.matches.length === 0) ignored.push(`no environment is triggered by ${clip(push.ref)}`);
  }
  if (matches.length > 0) {
    const jobs = deployJobs(delivery, { pushes, matches, skipped }, setup.now());
    return { jobs, skipped, logged: pushContext(pushes) };
  }
  return reply(
    200,
    {
      ignored: pushes.length === 0 ? 'the push updates no ref' : ignored.join('; '),
      ...(skipped.length > 0 ? { skipped } : {}),
    },
    'push deploys nothing',
    pushContext(pushes),
  );
}

/**
 * A pull request delivery: its plan jobs, or acknowledged with why it plans nothing (closed, merged, a draft, a
 * fork while `plan.forks` is off, no environment following its target branch).
 */
function classifyPullRequest(
  setup: Setup,
  delivery: Delivery,
  authentic: Authentic,
): Enqueueing | WebhookResponse {
  const reply = (status: number, fields: Fields, message: string, extra?: Fields) =>
    answer(setup.logger, delivery.context, status, fields, message, extra);
  let event: ReturnType<ProviderSpec['pullRequest']>;
  try {
    event = delivery.host.pullRequest(delivery.event, authentic.payload);
  } catch (error) {
    if (!(error instanceof MalformedPush)) throw error;
    return reply(400, { error: `malformed pull request: ${clip(error.message)}` }, 'malformed pull request');
  }
  const logged = {
    repository: event.repository,
    pullRequest: event.number,
    action: clip(event.action),
    base: clip(event.base),
    commit: event.commit,
    fork: event.fork,
  };
  const plans = planPullRequest(event, {
    config: setup.config,
    repositories: authentic.repositories,
    apps: setup.apps.get(authentic.repositories) ?? [],
    deliveryId: delivery.context.deliveryId,
    now: setup.now(),
  });
  if ('jobs' in plans) return { jobs: plans.jobs, skipped: plans.skipped, logged };
  const skipped = plans.skipped.length > 0 ? { skipped: plans.skipped } : {};
  return reply(200, { ignored: plans.ignored, ...skipped }, 'pull request plans nothing', logged);
}

/** One job per triggered part: several refs of one delivery that trigger one part make one job, as it follows its ref. */
function deployJobs(delivery: Delivery, deploying: Deploying, now: Date): DeployJob[] {
  const trigger = {
    kind: 'push',
    deliveryId: delivery.context.deliveryId,
    provider: delivery.host.name,
  } as const;
  const jobs = new Map<string, DeployJob>();
  for (const { push, match } of deploying.matches) {
    for (const part of match.parts) {
      const key = { app: match.app.name, environment: match.environment.name, part };
      const job = createJob(key, { ref: push.ref, commit: push.commit }, trigger, now);
      if (!jobs.has(job.id)) jobs.set(job.id, job);
    }
  }
  return [...jobs.values()];
}

/**
 * The order below is what keeps every push deployed once, whatever fails:
 * 1. `seen` first: a redelivery, even hours after the queue's 5-minute deduplication window, is acknowledged and
 *    not enqueued again.
 * 2. Enqueue next. If it fails, nothing is recorded and the 500 makes the host retry; the retry is not taken for
 *    a duplicate. If it failed after some jobs were sent, the retry sends them again with the same job ids, which
 *    the queue drops within its deduplication window.
 * 3. Record the delivery last, only once every job is on the queue. If recording fails, the 500 makes the host
 *    retry; the jobs it enqueues again are dropped by the queue's deduplication (and a retry after that window
 *    would deploy the same commit again, which changes nothing).
 * Recording first instead would turn a failed enqueue into a lost deployment, as the host's retry would be
 * acknowledged as a duplicate. Two concurrent copies of one delivery both pass `seen`; the queue keeps one of
 * each job.
 */
async function enqueueAndRemember(
  setup: Setup,
  delivery: Delivery,
  { jobs, skipped, logged: pushed }: Enqueueing,
): Promise<WebhookResponse> {
  const { context } = delivery;
  const reply = (status: number, fields: Fields, message: string, extra?: Fields) =>
    answer(setup.logger, context, status, fields, message, extra);
  const deliveryKey = `${context.provider}#${context.deliveryId}`;
  const enqueued: EnqueuedJob[] = jobs.map((job) => ({
    app: job.app,
    environment: job.environment,
    part: job.part,
    ref: clip(job.ref),
    commit: job.commit,
    group: jobGroup(job),
  }));
  try {
    if (await setup.deliveries.seen(deliveryKey)) {
      return reply(200, { ignored: 'delivery already handled' }, 'redelivery ignored', pushed);
    }
  } catch (error) {
    return reply(500, { error: 'the delivery log could not be read' }, 'delivery log failed', { error });
  }
  try {
    await setup.queue.enqueue(jobs);
  } catch (error) {
    return reply(500, { error: 'the deploy queue refused the jobs' }, 'enqueue failed', {
      error,
      jobs: enqueued,
    });
  }
  try {
    if (!(await setup.deliveries.remember(deliveryKey, setup.retainSeconds))) {
      setup.logger.info('delivery recorded concurrently; the queue keeps one of each job', { ...context });
    }
  } catch (error) {
    return reply(500, { error: 'the delivery could not be recorded' }, 'delivery log failed', {
      error,
      jobs: enqueued,
    });
  }
  for (const job of jobs) {
    // A pull request's head that the host abbreviated is marked once the plan has read it; so is a part whose
    // path patterns the plan must match with the changed files first (it may not concern the part at all).
    if (job.commit === ZERO_ID || (isPlanJob(job) && !planIsCertain(setup.config, job))) continue;
    setup.feedback?.status({
      key: keyOf(job),
      commit: job.commit,
      ref: job.ref,
      state: 'pending',
      description: isPlanJob(job) ? 'plan queued' : 'queued',
      ...(isPlanJob(job) ? { subject: 'plan' } : {}),
    });
  }
  // Logged compactly (a group names the app, environment and part): this line is written for every push.
  setup.logger.info('jobs enqueued', {
    ...context,
    ...pushed,
    status: 202,
    jobs: enqueued.map((job) => job.group),
  });
  return { status: 202, body: { delivery: context.deliveryId, jobs: enqueued, skipped } };
}

/** Whether a plan job's part is planned whatever the pull request changes. */
function planIsCertain(config: Config, job: DeployJob): boolean {
  const found = findPart(config, job);
  return found !== undefined && concernsEveryChange(found.environment, job.part);
}

/** What the logs say of a delivery's pushes. */
function pushContext(pushes: readonly PushEvent[]): Fields {
  return {
    repository: pushes[0]?.repository,
    ref: clip(pushes.map((push) => push.ref).join(' ')),
    commit: pushes.map((push) => push.commit ?? push.after).join(' '),
    changedPathsComplete: pushes.every((push) => push.changedPathsComplete),
  };
}
