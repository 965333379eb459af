// Real repositories over Git smart HTTP for the development kit (the test bed and the demo): `git http-backend`
// behind a token check, and, for a host's webhooks, word of each push once it is in.
import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hasCommand, MissingPrerequisite, run, type Service } from './process.ts';

export interface GitEndpoint {
  /** Repositories live at `${baseUrl}/<owner>/<name>.git`; a first push creates one. */
  readonly baseUrl: string;
  /** Accepted as the password of HTTP basic authentication (any user name) or as a bearer token. */
  readonly token: string;
}

/** One ref a push changed: its object before and after (all zeros when created or deleted). */
export interface RefUpdate {
  readonly ref: string;
  readonly before: string;
  readonly after: string;
}

/** A push that changed refs, as a Git host tells its webhooks of one. */
export interface Push {
  /** `owner/name`. */
  readonly repository: string;
  /** Its clone URL. */
  readonly url: string;
  /** The bare repository on disk, to read the commits from. */
  readonly dir: string;
  readonly updates: readonly RefUpdate[];
}

export interface GitServerOptions {
  /** The token to accept (default: a new random one). */
  readonly token?: string;
  /** Anyone may fetch and push, without a token (the demo's server: on loopback, for one person). */
  readonly anonymous?: boolean;
  /** The port to listen on (default: a free one). */
  readonly port?: number;
  /**
   * Told after each push that changed refs, as a Git host sends its webhooks. Not awaited: what it does cannot
   * hold up or fail the push.
   */
  readonly onPush?: (push: Push) => void;
}

const ZERO_ID = '0'.repeat(40);

const REPO_PATH = /^\/([\w.-]+\/[\w.-]+?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD))$/;

/**
 * Real repositories served over Git smart HTTP by `git http-backend`, behind a token check. They live in
 * `workDir/git`, and are kept there: started again on the same directory, the server has what it had.
 */
export async function startGit(
  workDir: string,
  options: GitServerOptions = {},
): Promise<GitEndpoint & Service> {
  if (!(await hasCommand('git')))
    throw new MissingPrerequisite('git is not installed: install git 2.30 or later');
  const root = join(workDir, 'git');
  await mkdir(root, { recursive: true });
  const token = options.token ?? randomBytes(24).toString('hex');

  const served: Served = {
    root,
    token,
    anonymous: options.anonymous ?? false,
    onPush: options.onPush,
    baseUrl: '',
  };
  const server = createServer((req, res) => {
    serve(served, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.message : String(error));
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  served.baseUrl = `http://127.0.0.1:${port}`;
  return {
    name: 'git',
    baseUrl: served.baseUrl,
    token,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function authorised(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  const presented =
    scheme?.toLowerCase() === 'basic'
      ? Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':')
      : scheme?.toLowerCase() === 'bearer'
        ? value
        : '';
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

interface Served {
  readonly root: string;
  readonly token: string;
  readonly anonymous: boolean;
  readonly onPush: GitServerOptions['onPush'];
  /** Known once the server listens, before any request. */
  baseUrl: string;
}

async function serve(
  { root, token, anonymous, onPush, baseUrl }: Served,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!anonymous && !authorised(req.headers.authorization, token)) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
    res.end('authentication required');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://git.invalid');
  const match = REPO_PATH.exec(url.pathname);
  if (match === null) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not a repository path');
    return;
  }
  const [, name = '', rest = ''] = match;
  const repoDir = join(root, `${name}.git`);
  const pushing = url.searchParams.get('service') === 'git-receive-pack' || rest === '/git-receive-pack';
  if (!existsSync(repoDir)) {
    if (!pushing) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`repository ${name} not found`);
      return;
    }
    await createRepository(repoDir);
  }
  const receiving = onPush !== undefined && rest === '/git-receive-pack' && req.method === 'POST';
  const before = receiving ? await refsOf(repoDir) : undefined;
  await runBackend(root, `/${name}.git${rest}`, url, req, res);
  if (before === undefined || onPush === undefined) return;
  const updates = changedRefs(before, await refsOf(repoDir));
  if (updates.length > 0) onPush({ repository: name, url: `${baseUrl}/${name}.git`, dir: repoDir, updates });
}

/** Runs `git http-backend` for one request and relays its answer. */
async function runBackend(
  root: string,
  pathInfo: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] === undefined
        ? {}
        : { CONTENT_LENGTH: req.headers['content-length'] }),
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_USER: 'testbed',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  req.pipe(backend.stdin);
  await relayCgiResponse(backend.stdout, res);
}

/** Every ref of a repository and the object it names. */
async function refsOf(repoDir: string): Promise<Map<string, string>> {
  const listed = await run('git', ['-C', repoDir, 'for-each-ref', '--format=%(objectname) %(refname)']);
  const refs = new Map<string, string>();
  for (const line of listed.split('\n')) {
    const [id, ref] = line.split(' ');
    if (id !== undefined && ref !== undefined) refs.set(ref, id);
  }
  return refs;
}

function changedRefs(before: Map<string, string>, after: Map<string, string>): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const ref of new Set([...before.keys(), ...after.keys()])) {
    const [was = ZERO_ID, now = ZERO_ID] = [before.get(ref), after.get(ref)];
    if (was !== now) updates.push({ ref, before: was, after: now });
  }
  return updates.sort((a, b) => a.ref.localeCompare(b.ref));
}

async function createRepository(dir: string): Promise<void> {
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  await run('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
  await run('git', ['-C', dir, 'config', 'uploadpack.allowReachableSHA1InWant', 'true']);
}

/** A CGI response is header lines, a blank line, then the body; `Status:` carries the HTTP status. */
async function relayCgiResponse(output: NodeJS.ReadableStream, res: ServerResponse): Promise<void> {
  let head = Buffer.alloc(0);
  for await (const chunk of output) {
    if (res.headersSent) {
      res.write(chunk);
      continue;
    }
    head = Buffer.concat([head, chunk as Buffer]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) continue;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'status') status = Number.parseInt(value, 10);
      else headers[key] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  }
  if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end();
}
