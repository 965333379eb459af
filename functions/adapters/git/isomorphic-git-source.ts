import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { type Checkout, GitFetchError, type GitRemote, type GitSource } from '../../core/ports.ts';

/**
 * Git over smart HTTP with isomorphic-git: no git binary, which Lambda lacks. One object store per repository
 * under `root` (the Lambda's /tmp), so a warm container fetches only the commits it has not seen.
 */
export class IsomorphicGitSource implements GitSource {
  readonly #root: string;

  constructor(root = join(tmpdir(), 'ferry-git')) {
    this.#root = root;
  }

  async checkout(remote: GitRemote, commit: string): Promise<Checkout> {
    const gitdir = join(
      this.#root,
      'repos',
      `${createHash('sha256').update(remote.url).digest('hex').slice(0, 16)}.git`,
    );
    if (!fs.existsSync(join(gitdir, 'HEAD'))) {
      await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
      await git.addRemote({ fs, gitdir, remote: 'origin', url: remote.url });
    }
    const commitTime = async () =>
      (await git.readCommit({ fs, gitdir, oid: commit })).commit.committer.timestamp;
    let time = await commitTime().catch(() => undefined);
    if (time === undefined) {
      try {
        await git.fetch({
          fs,
          http,
          gitdir,
          remote: 'origin',
          ref: commit,
          depth: 1,
          singleBranch: true,
          tags: false,
          onAuth: () =>
            remote.token === undefined
              ? { cancel: true }
              : { username: 'x-access-token', password: remote.token },
        });
        time = await commitTime();
      } catch (error) {
        throw new GitFetchError(`cannot fetch commit ${commit} from ${remote.url}: ${describe(error)}`);
      }
    }
    const dir = join(this.#root, 'work', randomBytes(6).toString('hex'));
    await mkdir(dir, { recursive: true });
    // Without an index, checkout writes every file into the fresh directory.
    await rm(join(gitdir, 'index'), { force: true });
    await git.checkout({ fs, dir, gitdir, ref: commit, force: true, noUpdateHead: true });
    return { dir, commitTime: time, dispose: () => rm(dir, { recursive: true, force: true }) };
  }

  async listRefs(remote: GitRemote): Promise<Map<string, string>> {
    try {
      const refs = await git.listServerRefs({
        http,
        url: remote.url,
        prefix: 'refs/',
        protocolVersion: 2,
        peelTags: true,
        onAuth: () =>
          remote.token === undefined
            ? { cancel: true }
            : { username: 'x-access-token', password: remote.token },
      });
      return new Map(refs.map((r) => [r.ref, r.peeled ?? r.oid]));
    } catch (error) {
      throw new GitFetchError(`cannot list refs of ${remote.url}: ${describe(error)}`);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof git.Errors.HttpError)
    return `HTTP ${error.data.statusCode} ${error.data.statusMessage}`;
  if (error instanceof git.Errors.UserCanceledError) return 'authentication required (no token configured)';
  return error instanceof Error ? error.message : String(error);
}
