// Deliveries as Git hosts sign and send them, wrapped in API Gateway HTTP API (payload 2.0) events, and
// in-process ports for tests and benchmarks of the intake's own logic.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { Failure } from '../../functions/core/errors.ts';
import type { DeployJob } from '../../functions/core/model/job.ts';
import type { DeliveryLog, JobQueue, SecretSource } from '../../functions/core/ports.ts';

export type Payload = Record<string, unknown>;

/** A JSON fixture of test/fixtures/webhooks. */
export function webhookFixture(name: string): Payload {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${name}`, import.meta.url), 'utf8'),
  ) as Payload;
}

export interface PushExample {
  /** Where it comes from, e.g. `api.github.com #3` or `ghes-35 #0`. */
  readonly name: string;
  readonly payload: Payload;
}

/** Every push example of `@octokit/webhooks-examples`: github.com's and each GitHub Enterprise Server's. */
export function githubPushExamples(): PushExample[] {
  const root = dirname(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/package.json'));
  const found: PushExample[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const definitions = JSON.parse(readFileSync(join(root, entry.name, 'index.json'), 'utf8')) as {
      name: string;
      examples: Payload[];
    }[];
    const examples = definitions.find((d) => d.name === 'push')?.examples ?? [];
    examples.forEach((payload, index) => {
      found.push({ name: `${entry.name} #${index}`, payload });
    });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

export const hmacHex = (secret: string, data: string | Uint8Array) =>
  createHmac('sha256', secret).update(data).digest('hex');

export interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** API Gateway base64-encodes form bodies. */
  readonly isBase64Encoded?: boolean;
}

/** An API Gateway HTTP API event for `POST /webhook`, headers lower-cased as API Gateway passes them. */
export function apiEvent(delivery: Delivery): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) headers[name.toLowerCase()] = value;
  const isBase64Encoded = delivery.isBase64Encoded ?? false;
  headers['content-length'] = String(
    isBase64Encoded ? Buffer.from(delivery.body, 'base64').length : Buffer.byteLength(delivery.body),
  );
  return {
    version: '2.0',
    routeKey: 'POST /webhook',
    rawPath: '/webhook',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/webhook',
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: headers['user-agent'] ?? 'test',
      },
      requestId: randomUUID(),
      routeKey: 'POST /webhook',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: delivery.body,
    isBase64Encoded,
  };
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ferry-webhook',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ferry-webhook',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/ferry-webhook',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The `sha256=<hex>` signature a delivery carries: the one given (`undefined` leaves it out), else the secret's. */
function hubSignature(
  options: { readonly secret?: string; readonly signature?: string | undefined },
  body: string,
): string | undefined {
  if ('signature' in options) return options.signature;
  return options.secret === undefined ? undefined : `sha256=${hmacHex(options.secret, body)}`;
}

export interface GithubOptions {
  readonly secret?: string;
  readonly event?: string;
  readonly id?: string;
  /** Sent as `application/x-www-form-urlencoded` with a `payload` field, base64-encoded by API Gateway. */
  readonly form?: boolean;
  /** Overrides the computed signature header (`undefined` leaves it out). */
  readonly signature?: string | undefined;
}

/** A GitHub delivery, signed over the raw body as GitHub signs it. */
export function githubDelivery(payload: Payload | string, options: GithubOptions = {}): Delivery {
  const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const body = options.form ? new URLSearchParams({ payload: json }).toString() : json;
  const headers: Record<string, string> = {
    'Content-Type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'User-Agent': 'GitHub-Hookshot/044aadd',
    'X-GitHub-Event': options.event ?? 'push',
    'X-GitHub-Delivery': options.id ?? randomUUID(),
    'X-GitHub-Hook-ID': '292430182',
  };
  const signature = hubSignature(options, body);
  if (signature !== undefined) headers['X-Hub-Signature-256'] = signature;
  return options.form
    ? { headers, body: Buffer.from(body).toString('base64'), isBase64Encoded: true }
    : { headers, body };
}

export interface GitlabOptions {
  readonly token?: string | undefined;
  /** A `whsec_…` signing token: the delivery also carries a Standard Webhooks signature. */
  readonly signingToken?: string;
  /** Seconds since the epoch for `webhook-timestamp` (default: now). */
  readonly timestamp?: number;
  readonly id?: string;
}

/** A GitLab delivery: `X-Gitlab-Token`, and with a signing token a Standard Webhooks signature. */
export function gitlabDelivery(payload: Payload, options: GitlabOptions = {}): Delivery {
  const body = JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  const hook =
    payload.object_kind === 'tag_push'
      ? 'Tag Push Hook'
      : payload.object_kind === 'push'
        ? 'Push Hook'
        : 'Hook';
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/18.6.0',
    'X-Gitlab-Event': hook,
    'X-Gitlab-Event-UUID': randomUUID(),
    'X-Gitlab-Webhook-UUID': randomUUID(),
    'X-Gitlab-Instance': 'https://gitlab.example.com',
    'Idempotency-Key': id,
  };
  if (options.token !== undefined) headers['X-Gitlab-Token'] = options.token;
  if (options.signingToken !== undefined) {
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const key = Buffer.from(options.signingToken.slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = timestamp;
    headers['webhook-signature'] = `v1,${signature}`;
  }
  return { headers, body };
}

/** A fresh Standard Webhooks signing token. */
export const signingToken = () => `whsec_${randomBytes(32).toString('base64')}`;

/** A Gitea delivery with every header Gitea sends, GitHub's included. */
export function giteaDelivery(payload: Payload, options: { secret: string; id?: string }): Delivery {
  const body = JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  const signature = hmacHex(options.secret, body);
  return {
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Go-http-client/1.1',
      'X-Gitea-Delivery': id,
      'X-Gitea-Event': 'push',
      'X-Gitea-Event-Type': 'push',
      'X-Gitea-Signature': signature,
      'X-Gogs-Delivery': id,
      'X-Gogs-Event': 'push',
      'X-Gogs-Signature': signature,
      'X-GitHub-Delivery': id,
      'X-GitHub-Event': 'push',
      'X-Hub-Signature': `sha1=${createHmac('sha1', options.secret).update(body).digest('hex')}`,
      'X-Hub-Signature-256': `sha256=${signature}`,
    },
    body,
  };
}

export interface BitbucketOptions {
  /** Data Center (and Server) rather than Cloud. */
  readonly server?: boolean;
  readonly secret?: string;
  readonly id?: string;
  /** Default: `repo:push` (Cloud) or `repo:refs_changed` (Data Center). */
  readonly event?: string;
  /** Overrides the computed `X-Hub-Signature` (`undefined` leaves it out). */
  readonly signature?: string | undefined;
}

/** A Bitbucket Cloud or Data Center delivery with the headers each sends, signed when a secret is given. */
export function bitbucketDelivery(payload: Payload | string, options: BitbucketOptions = {}): Delivery {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  const headers: Record<string, string> = options.server
    ? {
        'Content-Type': 'application/json; charset=UTF-8',
        'User-Agent': 'Atlassian HttpClient 4.2.0 / Bitbucket-9.4.0 (9004000) / Default',
        'X-Event-Key': options.event ?? 'repo:refs_changed',
        'X-Request-Id': id,
      }
    : {
        'Content-Type': 'application/json',
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        'X-Event-Key': options.event ?? 'repo:push',
        'X-Hook-UUID': '{4c7e2a90-1b3d-4f5e-8a6c-9d0b2e4f6a81}',
        'X-Request-UUID': id,
        'X-Attempt-Number': '1',
      };
  const signature = hubSignature(options, body);
  if (signature !== undefined) headers['X-Hub-Signature'] = signature;
  return { headers, body };
}

/** A deploy queue in memory. */
export class MemoryJobQueue implements JobQueue {
  readonly jobs: DeployJob[] = [];
  failWith: Error | undefined;

  async enqueue(jobs: readonly DeployJob[]): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.jobs.push(...jobs);
  }
}

/** A delivery log in memory (no expiry). */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly keys = new Set<string>();
  failWith: Error | undefined;

  async seen(deliveryKey: string): Promise<boolean> {
    return this.keys.has(deliveryKey);
  }

  async remember(deliveryKey: string): Promise<boolean> {
    if (this.failWith !== undefined) throw this.failWith;
    if (this.keys.has(deliveryKey)) return false;
    this.keys.add(deliveryKey);
    return true;
  }
}

/** Secrets from a map; a name it lacks is a configuration failure, as the port says. Counts the reads. */
export class MapSecretSource implements SecretSource {
  readonly values: Map<string, string>;
  reads = 0;

  constructor(values: Record<string, string>) {
    this.values = new Map(Object.entries(values));
  }

  async getSecret(name: string): Promise<string> {
    this.reads++;
    const value = this.values.get(name);
    if (value === undefined) throw new Failure('configuration', `no secret ${name}`);
    return value;
  }
}

/**
 * A GitHub push of one commit to `main`, shaped as GitHub sends it: `commit` after `before`, in the repository
 * at `url`, changing `paths`.
 */
export function githubPush(options: {
  url: string;
  commit?: string;
  before?: string;
  paths?: string[];
}): Payload {
  const commit = options.commit ?? 'b'.repeat(40);
  const paths = options.paths ?? ['deploy/app.yaml'];
  return {
    ref: 'refs/heads/main',
    before: options.before ?? 'a'.repeat(40),
    after: commit,
    created: false,
    deleted: false,
    forced: false,
    repository: { clone_url: options.url, html_url: options.url.replace(/\.git$/, '') },
    head_commit: { id: commit, added: [], modified: paths, removed: [] },
    commits: [{ id: commit, added: [], modified: paths, removed: [] }],
  };
}
