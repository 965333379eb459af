import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { Failure } from '../../core/errors.ts';
import { isCommitId } from '../../core/model/commit.ts';
import type { Checkout, GitRemote, GitSource } from '../../core/ports.ts';
import { gitFailure, isStoreFault } from './failures.ts';
import { overHttp } from './http-client.ts';
import { type SharedStore, sharedStore } from './repository-lock.ts';
import { hasCommit, type ObjectCache, writeCommit } from './write-tree.ts';

export interface IsomorphicGitSourceOptions {
  /** Bound of every HTTP request to the Git host, from connecting to the last byte of the answer. */
  readonly timeoutMs?: number;
}

/**
 * Git over smart HTTP with isomorphic-git: no git binary, which Lambda lacks. One object store per repository
 * under `root` (the Lambda's /tmp), so a warm container fetches only the commits it has not seen. Checkouts of
 * one repository may run at once: they share the store only to read it, and fetches into it take turns.
 */
export class IsomorphicGitSource implements GitSource {
  readonly #root: string;
  readonly #timeoutMs: number;

  constructor(root = join(tmpdir(), 'ferry-git'), options: IsomorphicGitSourceOptions = {}) {
    this.#root = root;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async checkout(remote: GitRemote, commit: string): Promise<Checkout> {
    const gitdir = join(
      this.#root,
      'repos',
      `${createHash('sha256').update(remote.url).digest('hex').slice(0, 16)}.git`,
    );
    const store = sharedStore(gitdir);
    const dir = join(this.#root, 'work', randomBytes(6).toString('hex'));
    const failure = (error: unknown) =>
      gitFailure(error, `cannot fetch commit ${commit} from ${remote.url}`, remote);
    // A ref name would be resolved by the remote, and a deployment would run whatever it names now.
    if (!isCommitId(commit)) throw failure(new Failure('rejected', 'not a full SHA-1 commit id'));
    const generation = store.generation;
    const attempt = () =>
      this.#materialise(remote, commit, gitdir, store, dir).catch(async (error: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw error;
      });
    try {
      await attempt();
    } catch (error) {
      if (!isStoreFault(error)) throw failure(error);
      // A truncated pack, a lost object, a fetch cut short: the cache is only a cache, so start it afresh, once.
      await discard(gitdir, store, generation);
      await attempt().catch((again: unknown) => {
        throw failure(again);
      });
    }
    return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
  }

  /** Writes the commit's files into `dir`, fetching the commit first unless the store holds it. */
  async #materialise(remote: GitRemote, commit: string, gitdir: string, store: SharedStore, dir: string) {
    const cache: ObjectCache = {};
    const writeIfPresent = async () => {
      if (!(await hasCommit(gitdir, commit, cache))) return false;
      await writeCommit(gitdir, commit, dir, cache);
      return true;
    };
    if (await store.lock.shared(writeIfPresent)) return;
    await store.lock.exclusive(async () => {
      // Another checkout may have fetched the commit while this one waited for its turn.
      if (await writeIfPresent()) return;
      await this.#fetch(remote, commit, gitdir, cache);
      // The remote answers a commit it does not have with an empty pack (and a message isomorphic-git drops).
      if (!(await hasCommit(gitdir, commit, cache))) {
        throw new Failure('rejected', 'the repository has no such commit');
      }
      await writeCommit(gitdir, commit, dir, cache);
    });
  }

  /** Fetches the commit alone (shallow) into the store; the caller holds the store's lock alone. */
  async #fetch(remote: GitRemote, commit: string, gitdir: string, cache: ObjectCache): Promise<void> {
    if (!fs.existsSync(join(gitdir, 'HEAD'))) {
      await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
    }
    // Every time, so that a store whose set-up was cut short mends itself.
    await git.addRemote({ fs, gitdir, remote: 'origin', url: remote.url, force: true });
    await overHttp(this.#timeoutMs, (http) =>
      git.fetch({
        fs,
        http,
        cache,
        gitdir,
        remote: 'origin',
        ref: commit,
        depth: 1,
        singleBranch: true,
        tags: false,
        headers: authorization(remote),
      }),
    );
  }

  async listRefs(remote: GitRemote): Promise<Map<string, string>> {
    try {
      const refs = await overHttp(this.#timeoutMs, (http) =>
        git.listServerRefs({
          http,
          url: remote.url,
          prefix: 'refs/',
          protocolVersion: 2,
          peelTags: true,
          headers: authorization(remote),
        }),
      );
      return new Map(refs.map((r) => [r.ref, r.peeled ?? r.oid]));
    } catch (error) {
      throw gitFailure(error, `cannot list refs of ${remote.url}`, remote);
    }
  }
}

/** Removes the store, unless another checkout already did since `generation` and may be filling it again. */
async function discard(gitdir: string, store: SharedStore, generation: number): Promise<void> {
  await store.lock.exclusive(async () => {
    if (store.generation !== generation) return;
    await rm(gitdir, { recursive: true, force: true });
    store.generation += 1;
  });
}

/**
 * The token is sent with the first request rather than after a 401: a host that hides private repositories
 * answers 404 to an anonymous request, which would read as "no such repository".
 */
function authorization({
  token,
  tokenAs = { basicUser: 'x-access-token' },
}: GitRemote): Record<string, string> {
  if (token === undefined) return {};
  if (tokenAs === 'bearer') return { Authorization: `Bearer ${token}` };
  return { Authorization: `Basic ${Buffer.from(`${tokenAs.basicUser}:${token}`).toString('base64')}` };
}
