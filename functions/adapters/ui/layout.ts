// The document every page of the status page shares: its landmarks, the style sheet, and the refresh. With
// JavaScript, htmx fetches the page again every few seconds and morphs the live region in place (scroll and
// focus stay); without it, a meta refresh reloads the page. `?refresh=off` stops both.
import { type Html, html } from './html.ts';

/** How often the page refreshes itself. */
export const REFRESH_SECONDS = 5;

export interface Layout {
  /** The page's heading, and the document's title before ` · Ferry`. */
  readonly title: string;
  /** The request's path and query, fetched again to refresh. */
  readonly self: string;
  readonly refresh: boolean;
  readonly generatedAt: string;
  /** Links above the title, the last one being the page itself. */
  readonly breadcrumbs?: readonly { readonly label: string; readonly href: string }[];
  readonly content: Html;
}

/** `self` with its refresh turned on or off. */
function withRefresh(self: string, on: boolean): string {
  const url = new URL(self, 'http://page');
  if (on) url.searchParams.delete('refresh');
  else url.searchParams.set('refresh', 'off');
  return `${url.pathname}${url.search}`;
}

function refreshNote(layout: Layout): Html {
  const updated = html`Updated <time datetime="${layout.generatedAt}">${layout.generatedAt.slice(11, 19)} UTC</time>`;
  return layout.refresh
    ? html`<p class="refresh">${updated}; refreshes every ${REFRESH_SECONDS} s.
        <a href="${withRefresh(layout.self, false)}">Stop refreshing</a></p>`
    : html`<p class="refresh">${updated}; not refreshing.
        <a href="${withRefresh(layout.self, true)}">Refresh automatically</a></p>`;
}

function breadcrumbs(layout: Layout): Html | string {
  if (layout.breadcrumbs === undefined) return '';
  const items = layout.breadcrumbs.map((crumb, index, all) =>
    index === all.length - 1
      ? html`<li><a href="${crumb.href}" aria-current="page">${crumb.label}</a></li>`
      : html`<li><a href="${crumb.href}">${crumb.label}</a></li>`,
  );
  return html`<nav aria-label="Breadcrumb"><ol class="breadcrumbs">${items}</ol></nav>`;
}

/** The whole document. */
export function page(layout: Layout): string {
  // The live region is fetched again and swapped in by its id; outside it, nothing changes.
  const live = layout.refresh
    ? html`<div id="live" hx-get="${layout.self}" hx-trigger="every ${REFRESH_SECONDS}s" hx-select="#live" hx-swap="outerMorph">`
    : html`<div id="live">`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="htmx-config" content='{"includeIndicatorCSS": false, "noSwap": [204, 304, "4xx", "5xx"]}'>
<title>${layout.title} · Ferry</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/ferry.css">
${layout.refresh ? html`<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS * 2}"></noscript>` : ''}
<script src="/assets/htmx.min.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="banner"><p class="brand"><a href="/">Ferry</a></p><p class="tagline">GitOps status, read-only</p></header>
<main id="main" tabindex="-1">
${breadcrumbs(layout)}
${live}
<h1>${layout.title}</h1>
${refreshNote(layout)}
${layout.content}
</div>
</main>
<footer><p>Read-only: this page changes nothing. The same data as JSON: <a href="/status">/status</a>.</p></footer>
</body>
</html>
`.text;
}
