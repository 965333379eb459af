// Contract checks of the requests Ferry's pull request adapters make, for hosts that cannot run here: loopback
// servers that check each request against the host's published API description and answer as the host documents,
// keeping just enough state (comments, a pull request's files) to answer later requests. They are not GitHub or
// GitLab. A request the description does not allow is answered as the host answers a malformed one and listed in
// `violations`, so that it fails the test that made it.
//
// - GitHub: its OpenAPI description (`@octokit/openapi`), through the status reporters' contract server, with the
//   operations `issues/list-comments`, `issues/create-comment`, `issues/update-comment`, `pulls/list-files` and
//   `users/get-authenticated` answered; a body over 65,536 characters is refused with 422, as GitHub does
//   ("body is too long (maximum is 65536 characters)").
// - GitLab: the documented parameters of the Notes API for merge requests (list, create, modify a note), of
//   "List merge request diffs" (GitLab 15.7) and of "Get the current user", written out below.
import {
  type ContractServer,
  exampleOf,
  type GitHubContract,
  githubDescription,
  type RecordedRequest,
  type Schema,
  startContract,
  startGitHubContract,
  validate,
} from './status-contract.ts';

/** A pull request's conversation as the contract keeps it. */
export interface Thread {
  readonly comments: { id: number; body: string; user: string }[];
  /** The paths its files list, in order. */
  readonly files: string[];
}

/** GitHub's own limit on an issue comment's body. */
export const GITHUB_COMMENT_LENGTH = 65_536;

export interface GitHubPlanContract extends GitHubContract {
  /** Pull requests by number: their comments and files (a test adds them). */
  readonly pulls: Map<number, Thread>;
}

const page = <T>(items: readonly T[], query: RecordedRequest['query'], size = 30): T[] => {
  const perPage = Number(query.per_page ?? size);
  const number = Number(query.page ?? 1);
  return items.slice((number - 1) * perPage, number * perPage);
};

/** GitHub's API for one repository, reached with `token`, whose user is `login`. */
export async function startGitHubPlanContract(options: {
  owner: string;
  repo: string;
  token: string;
  login: string;
}): Promise<GitHubPlanContract> {
  const spec = githubDescription();
  const pulls = new Map<number, Thread>();
  let next = 1000;
  const thread = (number: string | undefined) => pulls.get(Number(number));
  const server = await startGitHubContract({
    ...options,
    operations: ({ operation, params, route }, request, found) => {
      const example = (status: string) => exampleOf(spec, operation, status);
      const body = (request.body ?? {}) as { body?: string };
      if (typeof body.body === 'string' && body.body.length > GITHUB_COMMENT_LENGTH) {
        found.push(`${request.method} ${route.template}: body is too long (maximum is 65536 characters)`);
        return { status: 422, body: { message: 'Validation Failed' } };
      }
      const shown = (c: Thread['comments'][number]) => ({
        ...example(request.method === 'POST' ? '201' : '200'),
        id: c.id,
        body: c.body,
        user: { ...(example('200').user as object), login: c.user },
      });
      switch (operation.operationId) {
        case 'users/get-authenticated':
          return { status: 200, body: { ...example('200'), login: options.login } };
        case 'pulls/list-files': {
          const pull = thread(params.pull_number);
          if (pull === undefined) return { status: 404, body: { message: 'Not Found' } };
          const files = page(pull.files, request.query).map((filename) => ({ ...example('200'), filename }));
          return { status: 200, body: files };
        }
        case 'issues/list-comments': {
          const pull = thread(params.issue_number);
          if (pull === undefined) return { status: 404, body: { message: 'Not Found' } };
          return { status: 200, body: page(pull.comments, request.query).map((c) => shown(c)) };
        }
        case 'issues/create-comment': {
          const pull = thread(params.issue_number);
          if (pull === undefined) return { status: 404, body: { message: 'Not Found' } };
          const comment = { id: next++, body: body.body ?? '', user: options.login };
          pull.comments.push(comment);
          return { status: 201, body: shown(comment) };
        }
        case 'issues/update-comment': {
          const comment = [...pulls.values()]
            .flatMap((p) => p.comments)
            .find((c) => c.id === Number(params.comment_id));
          if (comment === undefined) return { status: 404, body: { message: 'Not Found' } };
          if (comment.user !== options.login) return { status: 403, body: { message: 'Forbidden' } };
          comment.body = body.body ?? '';
          return { status: 200, body: shown(comment) };
        }
        default:
          return undefined;
      }
    },
  });
  return Object.assign(server, { pulls });
}

// ---------------------------------------------------------------------------------------------------------
// GitLab, by the documented parameters. Notes API (merge requests): `GET /projects/:id/merge_requests/:iid/notes`
// takes `sort` (asc, desc), `order_by` (created_at, updated_at), `page`, `per_page`; `POST` takes `body`
// (required, at most 1,000,000 characters), `created_at`, `internal`, `merge_request_diff_head_sha`;
// `PUT .../notes/:note_id` takes `body` (at most 1,000,000 characters). "List merge request diffs":
// `GET /projects/:id/merge_requests/:iid/diffs` takes `page`, `per_page`, `unidiff`. "Get the current user":
// `GET /user`. Each needs a token in `PRIVATE-TOKEN` (or `Authorization: Bearer`); `:id` is the project's id or
// its URL-encoded path.

const NOTE_BODY = { type: 'string', maxLength: 1_000_000 };
const PAGING = {
  page: { type: 'integer', minimum: 1 },
  per_page: { type: 'integer', minimum: 1, maximum: 100 },
};

const GITLAB_OPERATIONS: readonly {
  readonly method: string;
  readonly path: RegExp;
  readonly name: string;
  readonly parameters: Schema;
}[] = [
  {
    method: 'GET',
    path: /^\/user$/,
    name: 'GET /user',
    parameters: { type: 'object', properties: {} },
  },
  {
    method: 'GET',
    path: /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes$/,
    name: 'GET /projects/:id/merge_requests/:merge_request_iid/notes',
    parameters: {
      type: 'object',
      properties: {
        sort: { type: 'string', enum: ['asc', 'desc'] },
        order_by: { type: 'string', enum: ['created_at', 'updated_at'] },
        ...PAGING,
      },
    },
  },
  {
    method: 'POST',
    path: /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes$/,
    name: 'POST /projects/:id/merge_requests/:merge_request_iid/notes',
    parameters: {
      type: 'object',
      required: ['body'],
      properties: {
        body: NOTE_BODY,
        created_at: { type: 'string' },
        internal: { type: 'boolean' },
        merge_request_diff_head_sha: { type: 'string' },
      },
    },
  },
  {
    method: 'PUT',
    path: /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes\/(\d+)$/,
    name: 'PUT /projects/:id/merge_requests/:merge_request_iid/notes/:note_id',
    parameters: { type: 'object', properties: { body: NOTE_BODY } },
  },
  {
    method: 'GET',
    path: /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/diffs$/,
    name: 'GET /projects/:id/merge_requests/:merge_request_iid/diffs',
    parameters: { type: 'object', properties: { ...PAGING, unidiff: { type: 'boolean' } } },
  },
];

/** Query values as GitLab reads them: numbers and booleans where the parameter is one. */
function typed(query: RecordedRequest['query'], schema: Schema): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string }>;
  return Object.fromEntries(
    Object.entries(query).map(([name, value]) => {
      const type = properties[name]?.type;
      return [name, type === 'integer' ? Number(value) : type === 'boolean' ? value === 'true' : value];
    }),
  );
}

export interface GitLabPlanContract extends ContractServer {
  /** Merge requests by iid: their notes and files (a test adds them). */
  readonly mergeRequests: Map<number, Thread & { readonly system: string[] }>;
}

/** GitLab's API for one project, reached with `token`, whose user is `username`. */
export async function startGitLabPlanContract(options: {
  project: string;
  projectId: number;
  token: string;
  username: string;
}): Promise<GitLabPlanContract> {
  const mergeRequests = new Map<number, Thread & { system: string[] }>();
  let next = 500;
  const server = await startContract(
    (request, found) => {
      const path = request.path.replace(/^\/api\/v4/, '');
      const operation = GITLAB_OPERATIONS.find((o) => o.method === request.method && o.path.test(path));
      if (!request.path.startsWith('/api/v4/') || operation === undefined) {
        found.push(
          `${request.method} ${request.path}: not an operation of GitLab's documented API used here`,
        );
        return { status: 404, body: { error: '404 Not Found' } };
      }
      const input = { ...typed(request.query, operation.parameters), ...((request.body ?? {}) as object) };
      found.push(...validate(operation.parameters, input, operation.name, (s) => s as Schema));
      const bearer = String(request.headers.authorization ?? '').replace(/^Bearer /i, '');
      if (request.headers['private-token'] !== options.token && bearer !== options.token)
        return { status: 401, body: { message: '401 Unauthorized' } };
      if (found.length > 0) return { status: 400 };
      if (operation.name === 'GET /user') return { status: 200, body: { id: 7, username: options.username } };
      const [, id = '', iid = '', noteId] = operation.path.exec(path) ?? [];
      if (decodeURIComponent(id) !== options.project && id !== String(options.projectId))
        return { status: 404, body: { message: '404 Project Not Found' } };
      const mr = mergeRequests.get(Number(iid));
      if (mr === undefined) return { status: 404, body: { message: '404 Not found' } };
      return answerGitLab(operation.name, mr, request, input, noteId, () => next++, options.username);
    },
    (found) => ({ status: 400, body: { error: found.join('; ') } }),
  );
  return Object.assign(server, { mergeRequests });
}

function answerGitLab(
  name: string,
  mr: Thread & { readonly system: string[] },
  request: RecordedRequest,
  input: Record<string, unknown>,
  noteId: string | undefined,
  nextId: () => number,
  username: string,
) {
  const note = (c: Thread['comments'][number], system = false) => ({
    id: c.id,
    body: c.body,
    author: { id: 7, username: c.user },
    system,
    noteable_type: 'MergeRequest',
  });
  const perPage = Number(request.query.per_page ?? 20);
  const number = Number(request.query.page ?? 1);
  const window = <T>(items: readonly T[]) => items.slice((number - 1) * perPage, number * perPage);
  if (name.endsWith('/diffs')) {
    const diffs = mr.files.map((path) => ({ old_path: path, new_path: path, diff: '' }));
    return { status: 200, body: window(diffs) };
  }
  if (request.method === 'GET') {
    // GitLab's own notes ("added 1 commit") come first here, as they would on a busy merge request.
    const all = [
      ...mr.system.map((body, i) => note({ id: i + 1, body, user: 'gitlab' }, true)),
      ...mr.comments.map((c) => note(c)),
    ];
    return { status: 200, body: window(all) };
  }
  if (request.method === 'POST') {
    const created = { id: nextId(), body: String(input.body), user: username };
    mr.comments.push(created);
    return { status: 201, body: note(created) };
  }
  const found = mr.comments.find((c) => c.id === Number(noteId));
  if (found === undefined) return { status: 404, body: { message: '404 Note Not Found' } };
  if (found.user !== username) return { status: 403, body: { message: '403 Forbidden' } };
  if (typeof input.body === 'string') found.body = input.body;
  return { status: 200, body: note(found) };
}
