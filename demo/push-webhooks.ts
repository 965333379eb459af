// The demo's Git server tells Ferry of each push as GitHub would: one push delivery per changed ref, with the
// commits and the paths they changed, signed with the webhook secret (`X-Hub-Signature-256`) and POSTed to the
// local mode's /webhook.
import { createHmac, randomUUID } from 'node:crypto';
import type { Push, RefUpdate } from '../devkit/git-server.ts';
import { run } from '../devkit/process.ts';
import type { Logger } from '../functions/adapters/local/logger.ts';

const ZERO_ID = '0'.repeat(40);

interface Commit {
  readonly id: string;
  readonly message: string;
  readonly added: string[];
  readonly modified: string[];
  readonly removed: string[];
}

export interface PushWebhooksOptions {
  readonly secret: string;
  readonly logger: Logger;
}

/** Sends a push delivery for each ref a push changed, once it knows where the local mode listens. */
export class PushWebhooks {
  readonly #options: PushWebhooksOptions;
  #url: string | undefined;

  constructor(options: PushWebhooksOptions) {
    this.#options = options;
  }

  /** From now on, pushes are delivered to `${url}/webhook`; undefined stops the deliveries. */
  deliverTo(url: string | undefined): void {
    this.#url = url;
  }

  /** The Git server's `onPush`. */
  readonly onPush = (push: Push): void => {
    const url = this.#url;
    if (url === undefined) return;
    for (const update of push.updates) {
      this.#deliver(url, push, update).catch((error: unknown) =>
        this.#options.logger.warn('demo: a push could not be delivered', { ref: update.ref, error }),
      );
    }
  };

  async #deliver(url: string, push: Push, update: RefUpdate): Promise<void> {
    const payload = await pushPayload(push, update);
    const body = JSON.stringify(payload);
    const signature = createHmac('sha256', this.#options.secret).update(body).digest('hex');
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ferry-demo',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${signature}`,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await response.json().catch(() => ({}))) as { jobs?: { group?: string }[] };
    this.#options.logger.info('demo: push delivered as a signed GitHub webhook', {
      ref: update.ref,
      commit: update.after.slice(0, 7),
      status: response.status,
      jobs: (answer.jobs ?? []).map((job) => job.group).join(' ') || 'none',
    });
  }
}

/** A GitHub push payload for one ref update of a push. */
async function pushPayload(push: Push, update: RefUpdate) {
  const git = (...args: string[]) => run('git', ['-C', push.dir, ...args]);
  const created = update.before === ZERO_ID;
  const deleted = update.after === ZERO_ID;
  const head = deleted ? undefined : (await git('rev-parse', `${update.after}^{commit}`)).trim();
  const commits = created || head === undefined ? [] : await commitsBetween(push.dir, update.before, head);
  const forced =
    !created &&
    head !== undefined &&
    (await git('merge-base', '--is-ancestor', update.before, head).then(
      () => false,
      () => true,
    ));
  const headCommit =
    commits.at(-1) ??
    (head === undefined ? null : { id: head, message: '', added: [], modified: [], removed: [] });
  return {
    ref: update.ref,
    before: update.before,
    after: update.after,
    created,
    deleted,
    forced,
    repository: {
      name: push.repository.split('/').at(-1),
      full_name: push.repository,
      clone_url: push.url,
      html_url: push.url.replace(/\.git$/, ''),
    },
    pusher: { name: 'demo' },
    head_commit: headCommit,
    commits,
  };
}

/** The commits after `before` up to `head`, oldest first, each with the paths it added, changed and removed. */
async function commitsBetween(repoDir: string, before: string, head: string): Promise<Commit[]> {
  const log = await run('git', [
    '-C',
    repoDir,
    'log',
    '--reverse',
    '--no-renames',
    '--max-count=2048',
    '--format=%x01%H%x02%s',
    '--name-status',
    `${before}..${head}`,
  ]);
  return log
    .split('\x01')
    .slice(1)
    .map((entry) => {
      const [first = '', ...lines] = entry.split('\n');
      const [id = '', message = ''] = first.split('\x02');
      const commit: Commit = { id, message, added: [], modified: [], removed: [] };
      for (const line of lines) {
        const [status, path] = line.split('\t');
        if (path === undefined) continue;
        if (status === 'A') commit.added.push(path);
        else if (status === 'D') commit.removed.push(path);
        else commit.modified.push(path);
      }
      return commit;
    });
}
