// A part's page: its state (sync status with the whole message, applied and head commits, pin, last check),
// the drift its last check found as a field diff (Secret values arrive masked), its history with each
// deployment's objects and actions, and its jobs and dead letters.
import type {
  CheckRecord,
  DeploymentObject,
  DeploymentRecord,
  DriftedObject,
} from '../../core/model/records.ts';
import type { PartStatus, QueueStatus } from '../../core/model/status.ts';
import {
  checkActionText,
  commitCode,
  duration,
  fieldValue,
  plural,
  resultBadge,
  scrolling,
  statusBadge,
  timeOf,
  triggerText,
} from './format.ts';
import { type Html, html } from './html.ts';
import { queueTables } from './overview.ts';

/** The most objects listed per deployment; the rest are counted. */
const OBJECTS_LISTED = 200;

const fact = (term: string, value: Html | string) => html`<dt>${term}</dt><dd>${value}</dd>`;

function state(part: PartStatus, now: string): Html {
  const { sync, lastApplied, head, pin, suspended, lastCheck, lock } = part;
  return html`<dl class="facts">
${fact('Sync status', html`${statusBadge(sync.status)} ${sync.at === '' ? '' : html`since ${timeOf(sync.at, now)}`}${sync.failure === undefined ? '' : html`, ${sync.failure}`}`)}
${sync.message === '' ? '' : fact('Reason', html`<pre class="message">${sync.message}</pre>`)}
${fact('Applied', lastApplied === null ? 'nothing yet' : html`${commitCode(lastApplied.commit)} (${lastApplied.ref}) at ${timeOf(lastApplied.appliedAt, now)}, ${plural(part.objects, 'object')}`)}
${fact('Head', head === null ? 'not checked yet' : html`${commitCode(head.commit)}${head.ref === undefined ? '' : ` (${head.ref})`}, found ${timeOf(head.at, now)}`)}
${pin === null ? '' : fact('Pinned', html`at ${commitCode(pin.commit)} (${pin.ref}) by ${pin.by} since ${timeOf(pin.at, now)}; new commits are not deployed until it is resumed`)}
${suspended === null ? '' : fact('Suspended', html`by ${suspended.by}${suspended.at === '' ? '' : html` since ${timeOf(suspended.at, now)}`}; takes no pushes or checks until resumed`)}
${fact('Last check', lastCheck === null ? 'not checked yet' : html`${timeOf(lastCheck.at, now)}: ${checkActionText(lastCheck.action)}. ${lastCheck.message}`)}
${lock === null ? '' : fact('Now', html`deploying (lease until ${timeOf(lock.expiresAt, now)})`)}
${part.configured === false ? fact('Configuration', 'no longer has this part') : ''}
</dl>`;
}

function driftedObject(object: DriftedObject, index: number): Html {
  const id = `drift-${index}`;
  if (object.reason === 'missing') {
    return html`<h3 id="${id}">${object.object}</h3><p>Missing from the cluster.</p>`;
  }
  const changes = object.changes ?? [];
  const table =
    scrolling(html`<table class="diff" aria-labelledby="${id}"><thead><tr><th scope="col">Field</th><th scope="col">Live</th><th scope="col">Desired</th></tr></thead>
<tbody>${changes.map(
      (change) =>
        html`<tr><th scope="row"><code>${change.path}</code></th><td class="live"><pre>${fieldValue(change.live)}</pre></td><td class="desired"><pre>${fieldValue(change.desired)}</pre></td></tr>`,
    )}</tbody></table>`);
  return html`<h3 id="${id}">${object.object}</h3>${table}`;
}

function drift(part: PartStatus, now: string): Html {
  const check = part.lastCheck;
  const body =
    check === null
      ? html`<p>No check yet.</p>`
      : check.drifted.length === 0
        ? html`<p>The last check, ${timeOf(check.at, now)}, found no drift.</p>`
        : html`<p>The last check, ${timeOf(check.at, now)}, found ${plural(check.drifted.length, 'drifted object')}:
the live cluster against the applied revision. Secret values are masked.</p>${check.drifted.map(driftedObject)}`;
  return html`<section aria-labelledby="drift"><h2 id="drift">Drift</h2>${body}</section>`;
}

function objectsTable(objects: readonly DeploymentObject[], id: string): Html {
  if (objects.length === 0) return html`<p>No objects.</p>`;
  const listed = objects.slice(0, OBJECTS_LISTED);
  const table =
    scrolling(html`<table aria-labelledby="${id}"><thead><tr><th scope="col">Object</th><th scope="col">Action</th><th scope="col">Message</th></tr></thead>
<tbody>${listed.map(
      (o) =>
        html`<tr><td>${o.object}</td><td class="action action-${o.action}">${o.action}</td><td class="message">${o.message ?? ''}</td></tr>`,
    )}</tbody></table>`);
  return html`${table}
${objects.length > listed.length ? html`<p>And ${plural(objects.length - listed.length, 'more object')}.</p>` : ''}`;
}

function deploymentSection(d: DeploymentRecord, now: string): Html {
  const id = `deployment-${d.id}`;
  const requested = d.requestedCommit === undefined ? '' : html`, requested ${commitCode(d.requestedCommit)}`;
  return html`<section class="deployment" aria-labelledby="${id}">
<h3 id="${id}">${resultBadge(d.result)} ${commitCode(d.commit)} <span class="when">${timeOf(d.startedAt, now)}</span></h3>
<dl class="facts">
${fact('Deployment', html`<code>${d.id}</code>`)}
${fact('Commit', html`${commitCode(d.commit)} (${d.ref})${requested}`)}
${fact('Trigger', triggerText(d.trigger))}
${fact('Duration', duration(d.startedAt, d.finishedAt))}
${d.failure === undefined ? '' : fact('Failure', d.failure)}
${d.message === '' ? '' : fact('Message', html`<pre class="message">${d.message}</pre>`)}
</dl>
${objectsTable(d.objects, id)}
</section>`;
}

function history(deployments: readonly DeploymentRecord[], now: string): Html {
  return html`<section aria-labelledby="history"><h2 id="history">Deployments</h2>
${
  deployments.length === 0
    ? html`<p>No deployment yet.</p>`
    : html`<p>The latest ${deployments.length}, newest first.</p>${deployments.map((d) => deploymentSection(d, now))}`
}
</section>`;
}

function checksTable(checks: readonly CheckRecord[], now: string): Html {
  const body =
    checks.length === 0
      ? html`<p>No check recorded.</p>`
      : scrolling(html`<table><caption>Scheduled checks, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Head</th><th scope="col">Drifted objects</th><th scope="col">Message</th></tr></thead>
<tbody>${checks.map(
          (check) =>
            html`<tr><td>${timeOf(check.at, now)}</td><td>${checkActionText(check.action)}</td><td>${commitCode(check.headCommit)}</td><td>${check.drifted.length}</td><td class="message">${check.message}</td></tr>`,
        )}</tbody></table>`);
  return html`<section aria-labelledby="checks"><h2 id="checks">Checks</h2>${body}</section>`;
}

/** What a part's page shows. */
export interface PartPage {
  readonly part: PartStatus;
  /** Newest first, each with its objects. */
  readonly deployments: readonly DeploymentRecord[];
  /** Newest first. */
  readonly checks: readonly CheckRecord[];
  readonly queue: QueueStatus;
  readonly now: string;
}

/** A part's page content. */
export function partPage({ part, deployments, checks, queue, now }: PartPage): Html {
  return html`${state(part, now)}
${drift(part, now)}
${history(deployments, now)}
<section aria-labelledby="queue"><h2 id="queue">Queue</h2>${queueTables(queue, now, part.id)}</section>
${checksTable(checks, now)}`;
}
