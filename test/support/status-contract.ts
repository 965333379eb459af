// Contract checks of the requests Ferry's status reporters make, for hosts that cannot run here: loopback HTTP
// servers that check each request against the host's published API description and answer as the host
// documents. They are not GitHub or GitLab: they know only what the descriptions say (paths, methods, required
// fields, the enums of `state`, authentication) and keep just enough state to answer later requests (created
// deployments, a GitLab status's state machine). A request the description does not allow is answered as the
// host answers a malformed one (422 on GitHub, 400 on GitLab) and listed in `violations`, so that it fails the
// test that made it.
//
// - GitHub: the OpenAPI description of api.github.com that `@octokit/openapi` ships, served under `/api/v3`
//   (where a GitHub Enterprise Server host, such as this loopback one, serves the same paths).
// - GitLab: the documented parameters of "Set the pipeline status of a commit" (Commits API,
//   `POST /projects/:id/statuses/:sha`), written out below as GitLab's documentation lists them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Failure } from '../../functions/core/errors.ts';

/** One request as the contract server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

/** An answer given instead of the documented one, e.g. a 401, a 429 or a 503. */
export interface InjectedAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ContractServer {
  /** The server's origin: a repository URL on it makes the reporters post here. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** What the descriptions do not allow, one line per finding. */
  readonly violations: string[];
  /** The next `times` requests get this answer (after their checks), instead of the documented one. */
  answerNext(answer: InjectedAnswer, times?: number): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// A small validator for the OpenAPI 3.0 subset of JSON Schema the descriptions use. Stricter than the schemas
// in one way: a request body's field that the schema does not name is a violation (a misspelt field would be
// dropped by the host without a word, and the status would lack it).

export type Schema = Record<string, unknown>;
export type Resolve = (schema: unknown) => Schema;

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === expected || (expected === 'number' && actual === 'integer');
}

export function validate(schemaIn: unknown, value: unknown, at: string, resolve: Resolve): string[] {
  const schema = resolve(schemaIn);
  if (value === null && schema.nullable === true) return [];
  if (Array.isArray(schema.allOf)) return schema.allOf.flatMap((s) => validate(s, value, at, resolve));
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) {
      const results = branches.map((s) => validate(s, value, at, resolve));
      return results.some((r) => r.length === 0)
        ? []
        : [`${at}: matches none of ${key} (${results.flat().join('; ')})`];
    }
  }
  const type = schema.type;
  if (typeof type === 'string' && !typeMatches(type, value))
    return [`${at}: expected ${type}, got ${typeOf(value)} ${JSON.stringify(value)}`];
  const problems: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      problems.push(`${at}: longer than ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      problems.push(`${at}: does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      problems.push(`${at}: over ${schema.maximum}`);
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      problems.push(`${at}: under ${schema.minimum}`);
  }
  if (Array.isArray(value) && schema.items !== undefined)
    value.forEach((item, i) => {
      problems.push(...validate(schema.items, item, `${at}[${i}]`, resolve));
    });
  if (typeOf(value) === 'object') problems.push(...validateObject(schema, value as Schema, at, resolve));
  return problems;
}

function validateObject(schema: Schema, value: Schema, at: string, resolve: Resolve): string[] {
  const problems: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  for (const name of (schema.required ?? []) as string[])
    if (!(name in value)) problems.push(`${at}.${name}: required, missing`);
  for (const [name, field] of Object.entries(value)) {
    if (name in properties) problems.push(...validate(properties[name], field, `${at}.${name}`, resolve));
    else if (schema.properties !== undefined && schema.additionalProperties === undefined)
      problems.push(`${at}.${name}: not a field the description names`);
    else if (typeof schema.additionalProperties === 'object')
      problems.push(...validate(schema.additionalProperties, field, `${at}.${name}`, resolve));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// The server around a host's checks and answers.

export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (request: RecordedRequest, violations: string[]) => Answer;

async function readJson(request: IncomingMessage): Promise<{ raw: string; body: unknown }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw === '') return { raw, body: undefined };
  try {
    return { raw, body: JSON.parse(raw) };
  } catch {
    return { raw, body: raw };
  }
}

function send(response: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    ...(text === '' ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    ...answer.headers,
  });
  response.end(text);
}

export async function startContract(
  handle: Handler,
  invalid: (violations: string[]) => Answer,
): Promise<ContractServer> {
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const injected: InjectedAnswer[] = [];
  const server = createServer((incoming, response) => {
    void (async () => {
      const url = new URL(incoming.url ?? '/', 'http://contract');
      const { raw, body } = await readJson(incoming);
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: incoming.headers,
        body,
      };
      requests.push(request);
      const found: string[] = [];
      if (raw !== '' && !String(incoming.headers['content-type'] ?? '').startsWith('application/json'))
        found.push(`${request.method} ${request.path}: a body sent as ${incoming.headers['content-type']}`);
      const answer = handle(request, found);
      violations.push(...found);
      const override = injected.shift();
      // A request that breaks the description gets the host's own refusal: its answer for a path it does not
      // serve, else its answer for invalid parameters.
      const refused = found.length > 0 && (answer.status < 400 || answer.body === undefined);
      send(response, refused ? invalid(found) : found.length > 0 ? answer : (override ?? answer));
    })().catch((error: unknown) => {
      violations.push(`the contract server failed: ${String(error)}`);
      send(response, { status: 500, body: { message: String(error) } });
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    violations,
    answerNext(answer, times = 1) {
      for (let i = 0; i < times; i++) injected.push(answer);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// GitHub, by its OpenAPI description.

export interface OpenApi {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: Record<string, Record<string, unknown>>;
}

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly schema: unknown;
}

export interface Operation {
  readonly operationId: string;
  readonly parameters?: unknown[];
  readonly requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  readonly responses: Record<string, { content?: Record<string, { examples?: Record<string, unknown> }> }>;
}

let description: OpenApi | undefined;

/** GitHub's description of api.github.com, read once (13 MB of JSON). */
export function githubDescription(): OpenApi {
  const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  description ??= JSON.parse(readFileSync(file, 'utf8')) as OpenApi;
  return description;
}

export function resolver(spec: OpenApi): Resolve {
  const resolve: Resolve = (schema) => {
    const ref = (schema as { $ref?: unknown } | undefined)?.$ref;
    if (typeof ref !== 'string') return (schema ?? {}) as Schema;
    const [, section, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(ref) ?? [];
    const target = section === undefined || name === undefined ? undefined : spec.components[section]?.[name];
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return resolve(target);
  };
  return resolve;
}

export interface Route {
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: string[];
}

export function routesOf(spec: OpenApi): Route[] {
  return Object.keys(spec.paths)
    .map((template) => {
      const names: string[] = [];
      const source = template
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{([^}]+)\}/g, (_, name: string) => {
          names.push(name);
          return '([^/]+)';
        });
      return { template, pattern: new RegExp(`^${source}$`), names };
    })
    .sort((a, b) => a.names.length - b.names.length);
}

/** The first example of an operation's answer, `$ref`s resolved. */
export function exampleOf(spec: OpenApi, operation: Operation, status: string): Record<string, unknown> {
  const examples = operation.responses[status]?.content?.['application/json']?.examples ?? {};
  const first = resolver(spec)(Object.values(examples)[0]) as { value?: unknown };
  return structuredClone((first.value ?? {}) as Record<string, unknown>);
}

export interface GitHubState {
  readonly statuses: {
    sha: string;
    state: string;
    context: string;
    description?: string;
    target_url?: string;
  }[];
  readonly deployments: {
    id: number;
    sha: string;
    ref: string;
    environment: string;
    task: string;
    statuses: { state: string; description?: string; log_url?: string }[];
  }[];
}

export interface GitHubContract extends ContractServer, GitHubState {}

/** The error body GitHub documents (`basic-error`). */
export const githubError = (message: string, status: number) => ({
  message,
  documentation_url: 'https://docs.github.com/rest',
  status: String(status),
});

export interface Matched {
  readonly route: Route;
  readonly operation: Operation;
  readonly params: Record<string, string>;
}

export function matchGitHub(
  spec: OpenApi,
  routes: Route[],
  request: RecordedRequest,
  found: string[],
): Matched | undefined {
  const prefix = '/api/v3';
  if (!request.path.startsWith(`${prefix}/`)) {
    found.push(
      `${request.method} ${request.path}: not under ${prefix}, where GitHub Enterprise Server serves the API`,
    );
    return undefined;
  }
  const path = request.path.slice(prefix.length);
  const candidates = routes.filter((r) => r.pattern.test(path));
  const route = candidates.find((r) => spec.paths[r.template]?.[request.method.toLowerCase()] !== undefined);
  if (route === undefined) {
    found.push(
      candidates.length === 0
        ? `${request.method} ${path}: no such path in GitHub's description`
        : `${request.method} ${path}: ${candidates[0]?.template} takes no ${request.method}`,
    );
    return undefined;
  }
  const values = route.pattern.exec(path)?.slice(1) ?? [];
  const params = Object.fromEntries(
    route.names.map((name, i) => [name, decodeURIComponent(values[i] ?? '')]),
  );
  return {
    route,
    operation: spec.paths[route.template]?.[request.method.toLowerCase()] as Operation,
    params,
  };
}

/** Parameters and body against the operation's description. */
export function checkGitHubRequest(
  spec: OpenApi,
  matched: Matched,
  request: RecordedRequest,
  found: string[],
): void {
  const resolve = resolver(spec);
  const where = `${request.method} ${matched.route.template}`;
  const parameters = (matched.operation.parameters ?? []).map((p) => resolve(p) as unknown as Parameter);
  for (const parameter of parameters) {
    const source =
      parameter.in === 'path' ? matched.params : parameter.in === 'query' ? request.query : undefined;
    if (source === undefined) continue;
    const value = source[parameter.name];
    if (value === undefined) {
      if (parameter.required === true)
        found.push(`${where}: the ${parameter.in} parameter ${parameter.name} is required`);
      continue;
    }
    const schema = resolve(parameter.schema);
    const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
    found.push(...validate(schema, typed, `${where} ${parameter.in} ${parameter.name}`, resolve));
  }
  for (const name of Object.keys(request.query))
    if (!parameters.some((p) => p.in === 'query' && p.name === name))
      found.push(`${where}: the query parameter ${name} is not in the description`);
  const body = matched.operation.requestBody;
  if (body === undefined) {
    if (request.body !== undefined) found.push(`${where}: takes no body`);
    return;
  }
  if (request.body === undefined) {
    if (body.required === true) found.push(`${where}: a body is required`);
    return;
  }
  found.push(...validate(body.content['application/json']?.schema, request.body, `${where} body`, resolve));
}

/** The documented answers of the operations the reporter uses, with what the requests created. */
function answerGitHub(
  spec: OpenApi,
  matched: Matched,
  request: RecordedRequest,
  state: GitHubState,
  found: string[],
): Answer {
  const { operation, params } = matched;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const example = (status: string) => exampleOf(spec, operation, status);
  switch (operation.operationId) {
    case 'repos/create-commit-status': {
      state.statuses.push({ sha: params.sha ?? '', ...(body as { state: string; context: string }) });
      return { status: 201, body: { ...example('201'), ...body, context: body.context ?? 'default' } };
    }
    case 'repos/list-deployments': {
      const { sha, environment, task } = request.query;
      const listed = state.deployments.filter(
        (d) =>
          (sha === undefined || d.sha === sha) &&
          (environment === undefined || d.environment === environment) &&
          (task === undefined || d.task === task),
      );
      const limit = Number(request.query.per_page ?? 30);
      // Newest first, as GitHub lists them.
      const page = listed.toReversed().slice(0, limit);
      return {
        status: 200,
        body: page.map((d) => ({
          ...example('200'),
          id: d.id,
          sha: d.sha,
          ref: d.ref,
          environment: d.environment,
          task: d.task,
        })),
      };
    }
    case 'repos/create-deployment': {
      const deployment = {
        id: state.deployments.length + 1,
        // The ref is a SHA here; a branch or tag would be resolved to its commit.
        sha: String(body.ref),
        ref: String(body.ref),
        environment: String(body.environment ?? 'production'),
        task: String(body.task ?? 'deploy'),
        statuses: [],
      };
      if (body.required_contexts === undefined)
        found.push(
          `${request.method} ${matched.route.template}: without required_contexts, GitHub holds the deployment until every context is green (409)`,
        );
      state.deployments.push(deployment);
      return {
        status: 201,
        body: {
          ...example('201'),
          id: deployment.id,
          sha: deployment.sha,
          ref: deployment.ref,
          environment: deployment.environment,
          task: deployment.task,
        },
      };
    }
    case 'repos/create-deployment-status': {
      const deployment = state.deployments.find((d) => d.id === Number(params.deployment_id));
      if (deployment === undefined) return { status: 404, body: githubError('Not Found', 404) };
      deployment.statuses.push(body as { state: string });
      return { status: 201, body: { ...example('201'), ...body } };
    }
    default:
      found.push(`${operation.operationId}: described, but not one the contract answers`);
      return { status: 501 };
  }
}

/**
 * GitHub's API for one repository, `owner/repo`, reached with `token`: a repository URL
 * `<url>/<owner>/<repo>.git` makes the reporter post here.
 */
export async function startGitHubContract(options: {
  owner: string;
  repo: string;
  token: string;
  /**
   * Answers of further operations (by the description's `operationId`), checked as the others are; undefined
   * leaves a request to the status operations' answers.
   */
  operations?: (matched: Matched, request: RecordedRequest, found: string[]) => Answer | undefined;
}): Promise<GitHubContract> {
  const spec = githubDescription();
  const routes = routesOf(spec);
  const state: GitHubState = { statuses: [], deployments: [] };
  const server = await startContract(
    (request, found) => {
      const matched = matchGitHub(spec, routes, request, found);
      if (matched === undefined) return { status: 404, body: githubError('Not Found', 404) };
      checkGitHubRequest(spec, matched, request, found);
      if (request.headers['user-agent'] === undefined)
        found.push(
          `${request.method} ${request.path}: no User-Agent, which GitHub requires of every request`,
        );
      const version = request.headers['x-github-api-version'];
      if (version !== undefined && version !== '2022-11-28' && version !== '2026-03-10')
        found.push(
          `${request.method} ${request.path}: X-GitHub-Api-Version ${version} is not a version GitHub serves`,
        );
      const [scheme, presented] = String(request.headers.authorization ?? '').split(' ');
      if (request.headers.authorization === undefined)
        return { status: 401, body: githubError('Requires authentication', 401) };
      if (!['token', 'bearer'].includes(scheme?.toLowerCase() ?? '') || presented !== options.token)
        return { status: 401, body: githubError('Bad credentials', 401) };
      // Routes of a repository answer for this one only (`/user` names none).
      if (
        'owner' in matched.params &&
        (matched.params.owner !== options.owner || matched.params.repo !== options.repo)
      )
        return { status: 404, body: githubError('Not Found', 404) };
      // A request the description refuses changes nothing.
      if (found.length > 0) return { status: 422 };
      return (
        options.operations?.(matched, request, found) ?? answerGitHub(spec, matched, request, state, found)
      );
    },
    (found) => ({
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: found.map((f) => ({ code: 'invalid', message: f })),
        documentation_url: 'https://docs.github.com/rest',
        status: '422',
      },
    }),
  );
  return Object.assign(server, state);
}

// ---------------------------------------------------------------------------------------------------------
// GitLab, by the documented parameters of `POST /projects/:id/statuses/:sha` (Commits API, "Set the pipeline
// status of a commit"): `id` (integer or URL-encoded path of the project) and `sha` in the path; `state`
// required, one of pending, running, success, failed, canceled, skipped; `ref`, `target_url` and `description`
// of at most 255 characters; `name` or `context`; `coverage` (float); `pipeline_id` (integer). Authentication:
// a personal, project or group access token in `PRIVATE-TOKEN`, or as `Authorization: Bearer`.

const GITLAB_SET_STATUS: Schema = {
  type: 'object',
  required: ['state'],
  properties: {
    state: { type: 'string', enum: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'] },
    ref: { type: 'string', maxLength: 255 },
    name: { type: 'string' },
    context: { type: 'string' },
    target_url: { type: 'string', maxLength: 255 },
    description: { type: 'string', maxLength: 255 },
    coverage: { type: 'number' },
    pipeline_id: { type: 'integer' },
  },
};

export interface GitLabStatus {
  id: number;
  sha: string;
  ref: string | null;
  name: string;
  status: string;
  description: string | null;
  target_url: string | null;
}

export interface GitLabContract extends ContractServer {
  /** Every status record, in the order GitLab created them (a post to a pending or running one updates it). */
  readonly statuses: GitLabStatus[];
}

/** GitLab's transition refusal for a state a status already holds (its state machine's events). */
function refusedTransition(from: string, to: string): string | undefined {
  const event = to === 'pending' ? 'enqueue' : to === 'running' ? 'run' : undefined;
  if (event === undefined) return undefined;
  if (
    (to === 'pending' && (from === 'pending' || from === 'running')) ||
    (to === 'running' && from === 'running')
  )
    return `Cannot transition status via :${event} from :${from} (Reason(s): Status cannot transition via "${event}")`;
  return undefined;
}

function answerGitLab(statuses: GitLabStatus[], sha: string, body: Record<string, unknown>): Answer {
  const name = String(body.name ?? body.context ?? 'default');
  const ref = typeof body.ref === 'string' ? body.ref : null;
  const state = String(body.state);
  // GitLab updates the status of that name and ref while it is pending or running, else creates another.
  const active = statuses.findLast(
    (s) =>
      s.sha === sha && s.name === name && s.ref === ref && (s.status === 'pending' || s.status === 'running'),
  );
  const refusal = active === undefined ? undefined : refusedTransition(active.status, state);
  if (refusal !== undefined) return { status: 400, body: { message: refusal } };
  const record = active ?? {
    id: statuses.length + 90,
    sha,
    ref,
    name,
    status: state,
    description: null,
    target_url: null,
  };
  Object.assign(record, {
    status: state,
    description: typeof body.description === 'string' ? body.description : record.description,
    target_url: typeof body.target_url === 'string' ? body.target_url : record.target_url,
  });
  if (active === undefined) statuses.push(record);
  const now = new Date().toISOString();
  return {
    status: 201,
    body: {
      ...record,
      author: {
        web_url: 'https://gitlab.example.com/janedoe',
        name: 'Jane Doe',
        username: 'janedoe',
        state: 'active',
        id: 28,
      },
      coverage: null,
      allow_failure: false,
      created_at: now,
      started_at: null,
      finished_at: ['success', 'failed', 'canceled', 'skipped'].includes(state) ? now : null,
    },
  };
}

/** GitLab's API for one project (its path, groups included), reached with `token`. */
export async function startGitLabContract(options: {
  project: string;
  projectId: number;
  token: string;
  /** A relative URL root the server is under (`/gitlab`), as GitLab's `relative_url_root` puts it. */
  root?: string;
}): Promise<GitLabContract> {
  const statuses: GitLabStatus[] = [];
  const statusPath = new RegExp(`^${options.root ?? ''}/api/v4/projects/([^/]+)/statuses/([^/]+)$`);
  const server = await startContract(
    (request, found) => {
      const match = statusPath.exec(request.path);
      if (match === null || request.method !== 'POST') {
        found.push(`${request.method} ${request.path}: not POST /api/v4/projects/:id/statuses/:sha`);
        return { status: 404, body: { error: '404 Not Found' } };
      }
      const body = { ...request.query, ...((request.body ?? {}) as Record<string, unknown>) };
      found.push(
        ...validate(GITLAB_SET_STATUS, body, 'POST /projects/:id/statuses/:sha', (s) => s as Schema),
      );
      const sha = decodeURIComponent(match[2] ?? '');
      if (!/^[0-9a-f]{40}$/.test(sha))
        found.push(`POST /projects/:id/statuses/:sha: ${sha} is not a commit SHA`);
      const bearer = String(request.headers.authorization ?? '').replace(/^Bearer /i, '');
      if (request.headers['private-token'] !== options.token && bearer !== options.token)
        return { status: 401, body: { message: '401 Unauthorized' } };
      const id = decodeURIComponent(match[1] ?? '');
      if (id !== options.project && id !== String(options.projectId))
        return { status: 404, body: { message: '404 Project Not Found' } };
      if (found.length > 0) return { status: 400 };
      return answerGitLab(statuses, sha, body);
    },
    (found) => ({ status: 400, body: { error: found.join('; ') } }),
  );
  return Object.assign(server, { statuses });
}

// ---------------------------------------------------------------------------------------------------------
// A plain loopback host for the reporters of hosts that have a real server in the test bed (Gitea) or whose
// requests the unit tests check field by field (Bitbucket): it records each request and answers what the test
// scripts, or nothing at all ('hang').

export type ScriptedAnswer = InjectedAnswer | 'hang';

export interface RecordingHost {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingHost(
  answer: (request: RecordedRequest, index: number) => ScriptedAnswer,
): Promise<RecordingHost> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, response) => {
    void readJson(incoming).then(({ body }) => {
      const url = new URL(incoming.url ?? '/', 'http://host');
      const request = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: incoming.headers,
        body,
      };
      requests.push(request);
      const scripted = answer(request, requests.length - 1);
      if (scripted !== 'hang') send(response, scripted);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening on it: a host that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The failure a call to a host must end in, which must not name the token it was sent with. */
export async function hostFailure(call: Promise<unknown>, token: string): Promise<Failure> {
  const error = await call.then(
    () => assert.fail('the request succeeded'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof Failure, String(error));
  assert.doesNotMatch(error.message, new RegExp(token));
  return error;
}
