// The test bed's Gitea is real: a git push makes Gitea itself deliver a signed push hook to a listener here,
// and a commit status created through its API reads back from it.
import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GiteaClient, GiteaError, type GiteaRepository, type GiteaWorkspace } from '../support/gitea.ts';
import { hmacHex } from '../support/webhooks.ts';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An HTTP listener on loopback that records every request and answers 200. */
async function listen(): Promise<{ url: string; next(timeoutMs: number): Promise<Received>; close(): void }> {
  const received: Received[] = [];
  const waiters: ((delivery: Received) => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      const delivery = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const waiter = waiters.shift();
      if (waiter === undefined) received.push(delivery);
      else waiter(delivery);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    next: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const first = received.shift();
        if (first !== undefined) return resolve(first);
        const timer = setTimeout(() => reject(new Error(`no delivery within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((delivery) => {
          clearTimeout(timer);
          resolve(delivery);
        });
      }),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const signatureValid = (secret: string, body: string, signature: string | undefined) => {
  const expected = Buffer.from(hmacHex(secret, body));
  const presented = Buffer.from(signature ?? '');
  return expected.length === presented.length && timingSafeEqual(expected, presented);
};

const gitea = new GiteaClient();

/** A repository with a first commit, and a working copy of it, removed after the suite. */
function repositoryForSuite(): { repository: GiteaRepository; workspace: GiteaWorkspace } {
  const site = {} as { repository: GiteaRepository; workspace: GiteaWorkspace };
  before(async () => {
    site.repository = await gitea.createRepository({ autoInit: true });
    site.workspace = await gitea.workspace(site.repository);
  });
  after(() => site.workspace?.remove());
  return site;
}

describe('gitea: hooks from a real sender', () => {
  const site = repositoryForSuite();
  let listener: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    listener = await listen();
  });
  after(() => listener?.close());

  test('a git push over HTTP makes Gitea deliver a signed push hook', async () => {
    const { repository, workspace } = site;
    const hook = await gitea.createHook(repository, { url: listener.url });
    const sha = await workspace.commit({ 'deploy/web.yaml': 'kind: ConfigMap\n' }, 'add web');
    await workspace.push();
    const delivery = await listener.next(20_000);
    assert.equal(delivery.headers['x-gitea-event'], 'push');
    assert.equal(
      delivery.headers['x-github-event'],
      'push',
      'Gitea also sends the GitHub-style event header',
    );
    assert.match(String(delivery.headers['x-gitea-delivery']), /^[0-9a-f-]{36}$/);
    assert.ok(
      signatureValid(hook.secret, delivery.body, delivery.headers['x-gitea-signature'] as string | undefined),
      'X-Gitea-Signature is the HMAC-SHA256 of the body with the hook secret',
    );
    const payload = JSON.parse(delivery.body) as {
      ref: string;
      after: string;
      repository: { full_name: string };
    };
    assert.equal(payload.after, sha);
    assert.equal(payload.ref, 'refs/heads/main');
    assert.equal(payload.repository.full_name, repository.fullName);
  });
});

describe('gitea: commit statuses on a real API', () => {
  const site = repositoryForSuite();

  test('a commit status created through the API reads back', async () => {
    const { repository, workspace } = site;
    const sha = await workspace.commit({ 'deploy/web.yaml': 'kind: ConfigMap\n' }, 'add web');
    await workspace.push();
    const context = 'ferry/web/production';
    await gitea.createStatus(repository, sha, { state: 'pending', context, description: 'queued' });
    await gitea.createStatus(repository, sha, {
      state: 'success',
      context,
      description: '12 applied, 1 pruned in 4.2 s',
      targetUrl: 'http://127.0.0.1/status',
    });
    const statuses = await gitea.statuses(repository, sha);
    assert.deepEqual(
      statuses.map((s) => [s.status, s.context, s.description]),
      [
        ['success', context, '12 applied, 1 pruned in 4.2 s'],
        ['pending', context, 'queued'],
      ],
    );
    const combined = await gitea.combinedStatus(repository, sha);
    assert.equal(combined.state, 'success');
    assert.equal(combined.sha, sha);
    assert.equal(combined.total_count, 1);
    assert.equal(combined.statuses[0]?.target_url, 'http://127.0.0.1/status');
    assert.equal(combined.statuses[0]?.creator?.login, gitea.settings.user);
  });

  test('a token with write:repository alone creates statuses; one with read:repository is refused', async () => {
    const { repository, workspace } = site;
    const sha = (await workspace.git('rev-parse', 'HEAD')).trim();
    const writer = new GiteaClient({
      ...gitea.settings,
      token: await gitea.createToken(['write:repository']),
    });
    await writer.createStatus(repository, sha, { state: 'failure', context: 'ferry/web/staging' });
    const reader = new GiteaClient({
      ...gitea.settings,
      token: await gitea.createToken(['read:repository']),
    });
    await assert.rejects(
      reader.createStatus(repository, sha, { state: 'success', context: 'ferry/web/staging' }),
      (error) => error instanceof GiteaError && error.status === 403,
    );
    const combined = await gitea.combinedStatus(repository, sha);
    assert.equal(combined.state, 'failure');
  });
});
