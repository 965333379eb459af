// The status page's routes, for any HTTP server that serves it (the local mode's, and `ferry ui`'s): `/`, a
// part's page `/parts/<app>/<environment>/<part>`, and the page's own assets: its style sheet and htmx, served
// from the installed package (no CDN, no build step).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PartKey } from '../../core/model/part.ts';
import { collectStatus } from '../../core/operate/status.ts';
import { partLabel } from './format.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { overview } from './overview.ts';
import { partPage } from './part.ts';
import { CHECKS_LISTED, HISTORY_LENGTH, type StatusPageSource } from './view.ts';

export interface PageResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // Only the page's own style sheet and script; no frames, no forms anywhere.
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The assets, read once at the first request for them. */
const ASSETS: Readonly<Record<string, { readonly type: string; readonly file: () => string }>> = {
  '/assets/htmx.min.js': {
    type: 'text/javascript; charset=utf-8',
    file: () => createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'),
  },
  '/assets/favicon.svg': {
    type: 'image/svg+xml',
    file: () => fileURLToPath(new URL('favicon.svg', import.meta.url)),
  },
  '/assets/ferry.css': {
    type: 'text/css; charset=utf-8',
    file: () => fileURLToPath(new URL('ferry.css', import.meta.url)),
  },
};
const assetCache = new Map<string, Buffer>();

function asset(path: string): PageResponse | undefined {
  const entry = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (entry === undefined) return undefined;
  let body = assetCache.get(path);
  if (body === undefined) {
    body = readFileSync(entry.file());
    assetCache.set(path, body);
  }
  return {
    status: 200,
    headers: {
      'content-type': entry.type,
      'cache-control': 'max-age=3600',
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

/** The part a page's path names, or undefined when it names none. */
function partKeyOf(path: string): PartKey | undefined {
  const match = /^\/parts\/([^/]+)\/([^/]+)\/(app|config)\/?$/.exec(path);
  if (match === null) return undefined;
  const [, app = '', environment = '', part] = match;
  try {
    return {
      app: decodeURIComponent(app),
      environment: decodeURIComponent(environment),
      part: part === 'config' ? 'config' : 'app',
    };
  } catch {
    return undefined;
  }
}

const htmlPage = (status: number, body: string): PageResponse => ({ status, headers: HTML_HEADERS, body });

async function partResponse(key: PartKey, source: StatusPageSource, url: URL): Promise<PageResponse> {
  const { reader, config } = source;
  const filter = { app: key.app, environment: key.environment };
  const [report, deployments, checks] = await Promise.all([
    collectStatus(reader, config, { filter, deploymentsPerPart: 1 }),
    reader.history(key, HISTORY_LENGTH),
    reader.checks(key, CHECKS_LISTED),
  ]);
  const part = report.environments.find((p) => p.part === key.part);
  const layout = {
    self: `${url.pathname}${url.search}`,
    refresh: url.searchParams.get('refresh') !== 'off',
    generatedAt: report.generatedAt,
  };
  if (part === undefined) {
    return htmlPage(
      404,
      page({
        ...layout,
        title: 'No such part',
        content: html`<p>Nothing is configured or recorded for ${partLabel(key)}.
<a href="/">All environments</a>.</p>`,
      }),
    );
  }
  return htmlPage(
    200,
    page({
      ...layout,
      title: partLabel(part),
      breadcrumbs: [
        { label: 'Environments', href: '/' },
        { label: partLabel(part), href: url.pathname },
      ],
      content: partPage({ part, deployments, checks, queue: report.queue, now: report.generatedAt }),
    }),
  );
}

/**
 * The answer to a GET of the status page's paths, or undefined for a path it does not serve. Every page is
 * read from `source` at the request.
 */
export async function pageResponse(url: URL, source: StatusPageSource): Promise<PageResponse | undefined> {
  if (!servesPath(url.pathname)) return undefined;
  if (url.pathname === '/') {
    const report = await collectStatus(source.reader, source.config);
    return htmlPage(
      200,
      page({
        title: 'Environments',
        self: `${url.pathname}${url.search}`,
        refresh: url.searchParams.get('refresh') !== 'off',
        generatedAt: report.generatedAt,
        content: overview(report),
      }),
    );
  }
  if (url.pathname.startsWith('/assets/')) return asset(url.pathname);
  const key = partKeyOf(url.pathname);
  return key === undefined ? undefined : partResponse(key, source, url);
}

/** Whether the path is one of the status page's. */
const servesPath = (path: string): boolean =>
  path === '/' || Object.hasOwn(ASSETS, path) || partKeyOf(path) !== undefined;

/**
 * Answers the request when its path is one of the status page's (`GET` and `HEAD` only: the page changes
 * nothing) and resolves true; resolves false, answering nothing, for any other path.
 */
export async function servePage(
  request: IncomingMessage,
  response: ServerResponse,
  source: StatusPageSource,
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (!servesPath(url.pathname)) return false;
  const method = request.method ?? 'GET';
  const answer: PageResponse | undefined =
    method === 'GET' || method === 'HEAD'
      ? await pageResponse(url, source)
      : {
          status: 405,
          headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' },
          body: 'use GET\n',
        };
  if (answer === undefined) return false;
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-length': String(Buffer.byteLength(answer.body)),
  });
  response.end(method === 'HEAD' ? undefined : answer.body);
  return true;
}
