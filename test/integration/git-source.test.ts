// The Git adapter against the test bed's real `git http-backend`: parallel checkouts sharing one cache, a damaged
// cache, refused requests, and hosts that never answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  request as httpRequest,
} from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pLimit from 'p-limit';
import { IsomorphicGitSource } from '../../functions/adapters/git/isomorphic-git-source.ts';
import { Failure, type FailureClass } from '../../functions/core/errors.ts';
import type { GitRemote } from '../../functions/core/ports.ts';
import { GitWorkspace } from '../support/git.ts';
import { testbed, uniqueName } from '../support/testbed.ts';

/** Every file under `dir` with its content, by path relative to `dir`. */
async function filesOf(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of (await readdir(dir, { recursive: true })).sort()) {
    if ((await stat(join(dir, path))).isFile()) files[path] = await readFile(join(dir, path), 'utf8');
  }
  return files;
}

/** The pack files of every cached repository under a cache root. */
async function packFiles(root: string): Promise<string[]> {
  const repos = join(root, 'repos');
  const packs: string[] = [];
  for (const repo of await readdir(repos)) {
    const dir = join(repos, repo, 'objects', 'pack');
    for (const file of await readdir(dir)) if (file.endsWith('.pack')) packs.push(join(dir, file));
  }
  return packs.sort();
}

async function failureOf(operation: () => Promise<unknown>): Promise<Failure> {
  const error = await operation().then(
    () => assert.fail('expected a failure'),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Failure, `expected a Failure, got ${String(error)}`);
  return error;
}

/** Starts a server on a free loopback port and returns its base URL. */
async function listen(server: Server | HttpServer): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A pass-through proxy to the test bed's Git server that counts the fetches (upload-pack requests) it relays. */
async function countingProxy(): Promise<{ url: string; fetches(): number; close(): Promise<void> }> {
  const target = testbed().gitUrl;
  let fetches = 0;
  const server = createHttpServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/git-upload-pack')) fetches += 1;
    const upstream = httpRequest(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const url = await listen(server);
  return {
    url,
    fetches: () => fetches,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

const MISSING_COMMIT = '0123456789abcdef0123456789abcdef01234567';

let workspace: GitWorkspace;
let remote: GitRemote;
let proxy: Awaited<ReturnType<typeof countingProxy>>;
/** The repository through the counting proxy. */
let proxied: GitRemote;
/** Four commits and the exact files each holds: each adds a file, removes its predecessor's, changes two. */
const commits: { sha: string; files: Record<string, string> }[] = [];
const roots: string[] = [];
const newRoot = async () => {
  const root = await mkdtemp(join(tmpdir(), 'ferry-git-source-'));
  roots.push(root);
  return root;
};

before(async () => {
  workspace = await GitWorkspace.create(uniqueName('tests/git-source'));
  remote = { url: workspace.url, token: testbed().gitToken };
  proxy = await countingProxy();
  proxied = { ...remote, url: workspace.url.replace(testbed().gitUrl, proxy.url) };
  for (let k = 0; k < 4; k++) {
    const files: Record<string, string> = {
      'README.md': 'a repository of manifests\n',
      'deploy/version.txt': `version ${k}\n`,
      [`deploy/only-${k}/config.yaml`]: `kind: ConfigMap # ${k}\n`,
      // Large and incompressible, so that packs take a while to write and read: races show.
      'deploy/large.txt': randomBytes(200_000).toString('base64'),
    };
    const removed = k === 0 ? {} : { [`deploy/only-${k - 1}/config.yaml`]: null };
    commits.push({ sha: await workspace.commit({ ...files, ...removed }, `version ${k}`), files });
  }
  await workspace.push();
});
after(async () => {
  await proxy.close();
  await workspace.remove();
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('Git source: parallel checkouts', () => {
  test('20 parallel checkouts of 4 commits share one cache; a warm cache fetches nothing again', async () => {
    const source = new IsomorphicGitSource(await newRoot());
    const limit = pLimit(4);
    const start = proxy.fetches();
    const checkoutAll = () =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          limit(async () => {
            // In pairs: checkouts of one commit and of different commits run at once.
            const expected = commits[Math.floor(i / 2) % commits.length];
            assert.ok(expected !== undefined);
            const checkout = await source.checkout(proxied, expected.sha);
            assert.deepEqual(await filesOf(checkout.dir), expected.files, `checkout ${i}`);
            await checkout.dispose();
            assert.equal(existsSync(checkout.dir), false);
          }),
        ),
      );
    await checkoutAll();
    // One fetch per commit: a checkout waits for a fetch of its commit under way, and uses it.
    assert.equal(proxy.fetches() - start, commits.length);
    await checkoutAll();
    assert.equal(proxy.fetches() - start, commits.length);
  });
});

describe('Git source: a damaged cache', () => {
  const damages: Record<string, (pack: string) => Promise<void>> = {
    'a truncated pack file': (pack) => truncate(pack, 100),
    'a pack file lost, its index kept': (pack) => rm(pack),
    'a garbled pack index': (pack) => writeFile(pack.replace(/\.pack$/, '.idx'), randomBytes(1000)),
    'a lost pack index': (pack) => rm(pack.replace(/\.pack$/, '.idx')),
  };
  for (const [damage, inflict] of Object.entries(damages)) {
    test(`a cache with ${damage} is fetched again and the checkout succeeds`, async () => {
      const root = await newRoot();
      const source = new IsomorphicGitSource(root);
      const used = commits.slice(0, 2);
      for (const { sha } of used) await (await source.checkout(proxied, sha)).dispose();
      for (const pack of await packFiles(root)) await inflict(pack);
      const start = proxy.fetches();
      for (const { sha, files } of used) {
        const checkout = await source.checkout(proxied, sha);
        assert.deepEqual(await filesOf(checkout.dir), files);
        await checkout.dispose();
      }
      // Each commit once more, and the fresh cache serves it from then on.
      assert.equal(proxy.fetches() - start, used.length);
      for (const { sha } of used) await (await source.checkout(proxied, sha)).dispose();
      assert.equal(proxy.fetches() - start, used.length);
    });
  }
});

describe('Git source: refusals', () => {
  test('a commit the repository does not have, or a ref name, is rejected; the cache is kept', async () => {
    const root = await newRoot();
    const source = new IsomorphicGitSource(root);
    const [first] = commits;
    assert.ok(first !== undefined);
    await (await source.checkout(remote, first.sha)).dispose();
    const packs = await packFiles(root);
    const failure = await failureOf(() => source.checkout(remote, MISSING_COMMIT));
    assert.equal(failure.failureClass, 'rejected', failure.message);
    assert.ok(failure.message.startsWith(`cannot fetch commit ${MISSING_COMMIT} from ${remote.url}: `));
    assert.deepEqual(await packFiles(root), packs);
    const byName = await failureOf(() => source.checkout(remote, 'main'));
    assert.equal(byName.failureClass, 'rejected', byName.message);
  });

  test('refs are listed like git ls-remote', async () => {
    const refs = await new IsomorphicGitSource(await newRoot()).listRefs(remote);
    assert.equal(refs.get('refs/heads/main'), commits.at(-1)?.sha);
  });

  test('a refused or missing token is a configuration failure that names the URL, never the token', async () => {
    const source = new IsomorphicGitSource(await newRoot());
    const [first] = commits;
    assert.ok(first !== undefined);
    const wrong = { url: remote.url, token: uniqueName('not-the-token') };
    for (const [what, target] of [
      ['wrong token', wrong],
      ['no token', { url: remote.url }],
    ] as const) {
      for (const [operation, prefix] of [
        [() => source.checkout(target, first.sha), `cannot fetch commit ${first.sha} from ${remote.url}: `],
        [() => source.listRefs(target), `cannot list refs of ${remote.url}: `],
      ] as const) {
        const failure = await failureOf(operation);
        assert.equal(failure.failureClass, 'configuration', `${what}: ${failure.message}`);
        assert.ok(failure.message.startsWith(prefix), failure.message);
        assert.ok(!failure.message.includes(wrong.token), failure.message);
      }
    }
  });

  test('a repository that does not exist is a configuration failure', async () => {
    const source = new IsomorphicGitSource(await newRoot());
    const missing = { url: `${testbed().gitUrl}/tests/${uniqueName('none')}.git`, token: remote.token };
    const failure = await failureOf(() => source.listRefs(missing));
    assert.equal(failure.failureClass, 'configuration', failure.message);
  });
});

/** Hosts that fail, each on a free loopback port. */
async function startFailingHosts() {
  const sockets = new Set<Socket>();
  // Accepts connections and never answers.
  const silent = createServer((socket) => {
    sockets.add(socket);
  });
  // Answers with headers and the start of a body, then nothing more.
  const stalling = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
    res.write('001e# service=git-upload-pack\n');
  });
  // Answers every request with the status its path names: /503/repo.git.
  const refusing = createHttpServer((req, res) => {
    res.writeHead(Number(req.url?.split('/')[1]), { 'content-type': 'text/plain' });
    res.end('refused');
  });
  const urls = {
    silent: await listen(silent),
    stalling: await listen(stalling),
    refusing: await listen(refusing),
  };
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    stalling.closeAllConnections();
    await Promise.all(
      [silent, stalling, refusing].map((server) => new Promise((done) => server.close(done))),
    );
  };
  return { urls, close };
}

describe('Git source: hosts that fail', () => {
  let hosts: Awaited<ReturnType<typeof startFailingHosts>>;
  let source: IsomorphicGitSource;
  before(async () => {
    hosts = await startFailingHosts();
    source = new IsomorphicGitSource(await newRoot(), { timeoutMs: 500 });
  });
  after(() => hosts.close());

  for (const host of ['silent', 'stalling'] as const) {
    test(`a ${host} host is a transient failure within the timeout`, { timeout: 20_000 }, async () => {
      const url = `${hosts.urls[host]}/tests/repo.git`;
      for (const operation of [
        () => source.checkout({ url }, MISSING_COMMIT),
        () => source.listRefs({ url }),
      ]) {
        const failure = await failureOf(operation);
        assert.equal(failure.failureClass, 'transient', failure.message);
        assert.match(failure.message, /500 ms/);
      }
    });
  }

  const expected: Record<number, FailureClass> = {
    403: 'configuration',
    404: 'configuration',
    429: 'transient',
    500: 'transient',
    503: 'transient',
  };
  for (const [status, failureClass] of Object.entries(expected)) {
    test(`HTTP ${status} from the host is ${failureClass}`, async () => {
      const url = `${hosts.urls.refusing}/${status}/repo.git`;
      const failure = await failureOf(() => source.checkout({ url, token: 'token' }, MISSING_COMMIT));
      assert.equal(failure.failureClass, failureClass, failure.message);
      assert.match(failure.message, new RegExp(`HTTP ${status}`));
    });
  }

  test('a host that refuses connections is a transient failure', async () => {
    const closed = createServer();
    const url = `${await listen(closed)}/tests/repo.git`;
    await new Promise((done) => closed.close(done));
    const failure = await failureOf(() => source.listRefs({ url }));
    assert.equal(failure.failureClass, 'transient', failure.message);
  });
});

describe('Git source: symbolic links', () => {
  test('a link inside the repository is kept; one that points outside it is refused', async () => {
    const links = await GitWorkspace.create(uniqueName('tests/git-links'));
    after(() => links.remove());
    await links.commit({ 'common/cm.yaml': 'kind: ConfigMap\n', 'overlay/kustomization.yaml': '{}\n' });
    await symlink('../common', join(links.dir, 'overlay', 'base'));
    const inside = await links.commit({}, 'a link inside');
    await symlink('/etc/passwd', join(links.dir, 'stolen.yaml'));
    const outside = await links.commit({}, 'a link outside');
    await links.push();
    const source = new IsomorphicGitSource(await newRoot());
    const linked = { url: links.url, token: testbed().gitToken };
    const checkout = await source.checkout(linked, inside);
    assert.equal(
      await readFile(join(checkout.dir, 'overlay', 'base', 'cm.yaml'), 'utf8'),
      'kind: ConfigMap\n',
    );
    await checkout.dispose();
    const failure = await failureOf(() => source.checkout(linked, outside));
    assert.equal(failure.failureClass, 'rejected');
    assert.match(failure.message, /symbolic link that points outside the repository: stolen\.yaml/);
  });
});
