// The status page's front page: a grid of apps by environment, each cell the environment's parts with their
// sync status, applied and head commits, pin and last check; then the deploy queue and its dead letters.
import type { PartStatus, QueueStatus, StatusReport } from '../../core/model/status.ts';
import {
  ago,
  checkActionText,
  commitCode,
  oneLine,
  partLabel,
  partPath,
  plural,
  scrolling,
  statusBadge,
  timeOf,
  triggerText,
} from './format.ts';
import { type Html, html } from './html.ts';

/** The environments in the order they first appear, and each app's parts by environment. */
function grid(parts: readonly PartStatus[]) {
  const environments = [...new Set(parts.map((p) => p.environment))];
  const apps = new Map<string, Map<string, PartStatus[]>>();
  for (const part of parts) {
    const byEnvironment = apps.get(part.app) ?? new Map<string, PartStatus[]>();
    byEnvironment.set(part.environment, [...(byEnvironment.get(part.environment) ?? []), part]);
    apps.set(part.app, byEnvironment);
  }
  return { environments, apps };
}

/** One part in a cell: its status (the link to its page), commits, pin and last check. */
function partCell(part: PartStatus, now: string): Html {
  const head = part.head?.commit;
  const applied = part.lastApplied?.commit;
  const lines = [
    html`<li>applied ${commitCode(applied)}</li>`,
    head === undefined
      ? ''
      : html`<li>head ${commitCode(head)}${head !== applied && applied !== undefined ? html` <strong>(ahead)</strong>` : ''}</li>`,
    part.pin === null
      ? ''
      : html`<li><strong>pinned</strong> at ${commitCode(part.pin.commit)} by ${part.pin.by}</li>`,
    part.suspended === null ? '' : html`<li><strong>suspended</strong> by ${part.suspended.by}</li>`,
    part.lastCheck === null
      ? html`<li>not checked yet</li>`
      : html`<li>checked ${timeOf(part.lastCheck.at, now, 'ago')}: ${checkActionText(part.lastCheck.action)}</li>`,
    part.lock === null ? '' : html`<li><strong>deploying now</strong></li>`,
    part.configured === false ? html`<li>not in the configuration</li>` : '',
  ];
  const message = part.sync.status === 'Synced' || part.sync.message === '' ? '' : oneLine(part.sync.message);
  return html`<div class="part">
<p class="part-status">${part.part === 'config' ? html`<span class="part-name">configuration</span> ` : ''}<a href="${partPath(part)}">${statusBadge(part.sync.status)}<span class="visually-hidden">: ${partLabel(part)}, details</span></a></p>
${message === '' ? '' : html`<p class="part-message">${message}</p>`}
<ul class="facts-inline">${lines}</ul>
</div>`;
}

function partsTable(view: StatusReport): Html {
  if (view.environments.length === 0) {
    return html`<p>No environment is configured or deployed yet.</p>`;
  }
  const { environments, apps } = grid(view.environments);
  const rows = [...apps].map(
    ([app, byEnvironment]) => html`<tr>
<th scope="row">${app}</th>
${environments.map((environment) => {
  const parts = byEnvironment.get(environment);
  return parts === undefined
    ? html`<td class="none">not deployed here</td>`
    : html`<td>${parts.map((part) => partCell(part, view.generatedAt))}</td>`;
})}
</tr>`,
  );
  return html`<div class="scroll" tabindex="0" role="region" aria-labelledby="grid-caption"><table class="grid">
<caption id="grid-caption">Apps by environment: sync status, applied and head commits, pins and last checks</caption>
<thead><tr><th scope="col">App</th>${environments.map((e) => html`<th scope="col">${e}</th>`)}</tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** The deploy queue's jobs and its dead letters, of every part or of one. */
export function queueTables(queue: QueueStatus, now: string, group?: string): Html {
  const jobs = queue.jobs.filter((job) => group === undefined || job.group === group);
  const dead = queue.deadLetters.filter((letter) => group === undefined || letter.group === group);
  const partColumn = group === undefined;
  const partLink = (id: string) => {
    const [app = '', environment = '', part = 'app'] = id.split('/');
    return html`<td><a href="${partPath({ app, environment, part: part === 'config' ? 'config' : 'app' })}">${id}</a></td>`;
  };
  const jobsTable = !queue.listsJobs
    ? html`<p>The queue's jobs cannot be listed without taking them from the worker: ${queue.queued} queued and
${queue.running} running, of every part.</p>`
    : jobs.length === 0
      ? html`<p>No job is queued${partColumn ? '' : ' for this part'}.</p>`
      : scrolling(html`<table><caption>Queued and running jobs</caption>
<thead><tr><th scope="col">Job</th>${partColumn ? html`<th scope="col">Part</th>` : ''}<th scope="col">Commit</th><th scope="col">Ref</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
<tbody>${jobs.map(
          (
            job,
          ) => html`<tr><td>${job.id}</td>${partColumn ? partLink(job.group) : ''}<td>${commitCode(job.commit)}</td><td>${job.ref}</td><td>${job.trigger}</td>
<td>${job.running ? 'running' : html`queued, available ${timeOf(job.availableAt, now, 'ago')}`}</td><td>${job.attempts}</td><td class="message">${job.lastError ?? ''}</td></tr>`,
        )}</tbody></table>`);
  const deadTable =
    dead.length === 0
      ? html`<p>No dead letters${partColumn ? '' : ' for this part'}.</p>`
      : scrolling(html`<table><caption>Dead letters: jobs that failed every attempt</caption>
<thead><tr><th scope="col">Job</th>${partColumn ? html`<th scope="col">Part</th>` : ''}<th scope="col">Commit</th><th scope="col">Attempts</th><th scope="col">Failed</th><th scope="col">Last error</th></tr></thead>
<tbody>${dead.map(
          (
            letter,
          ) => html`<tr><td>${letter.id}</td>${partColumn ? partLink(letter.group) : ''}<td>${commitCode(letter.commit)}</td><td>${letter.attempts}</td>
<td>${timeOf(letter.failedAt, now)}</td><td class="message">${letter.lastError ?? 'not recorded'}</td></tr>`,
        )}</tbody></table>`);
  return html`${jobsTable}${deadTable}`;
}

/** The front page's content. */
export function overview(view: StatusReport): Html {
  const { queue } = view;
  const deployments = view.environments.flatMap((part) =>
    part.deployments.slice(0, 1).map((d) => ({ part, d })),
  );
  const latest = deployments.sort((a, b) => b.d.startedAt.localeCompare(a.d.startedAt)).slice(0, 5);
  return html`${partsTable(view)}
<section aria-labelledby="recent"><h2 id="recent">Latest deployments</h2>
${
  latest.length === 0
    ? html`<p>Nothing deployed yet.</p>`
    : html`<ul class="recent">${latest.map(
        ({ part, d }) =>
          html`<li><a href="${partPath(part)}">${partLabel(part)}</a>: ${d.result} ${commitCode(d.commit)} (${triggerText(d.trigger)}), ${ago(d.startedAt, view.generatedAt)}</li>`,
      )}</ul>`
}
</section>
<section aria-labelledby="queue"><h2 id="queue">Deploy queue</h2>
<p>${queue.queued} queued, ${queue.running} running, ${plural(queue.deadLetters.length, 'dead letter')}.</p>
${queueTables(queue, view.generatedAt)}
</section>`;
}
