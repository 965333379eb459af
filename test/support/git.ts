import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../testbed/process.ts';
import { testbed } from './testbed.ts';

/**
 * A working copy that commits and pushes to a repository of the test bed's Git server with the git CLI,
 * as a developer would. A first push creates the repository.
 */
export class GitWorkspace {
  readonly dir: string;
  /** The repository's URL without credentials, as the code under test is configured with it. */
  readonly url: string;

  private constructor(dir: string, url: string) {
    this.dir = dir;
    this.url = url;
  }

  static async create(repository: string): Promise<GitWorkspace> {
    const { gitUrl, gitToken } = testbed();
    const dir = await mkdtemp(join(tmpdir(), 'ferry-git-'));
    const url = `${gitUrl}/${repository}.git`;
    const workspace = new GitWorkspace(dir, url);
    await workspace.git('init', '--quiet', '--initial-branch=main');
    await workspace.git('config', 'user.name', 'Ferry Tests');
    await workspace.git('config', 'user.email', 'tests@ferry.invalid');
    const authorised = new URL(url);
    authorised.username = 'x-access-token';
    authorised.password = gitToken;
    await workspace.git('remote', 'add', 'origin', authorised.href);
    return workspace;
  }

  git(...args: string[]): Promise<string> {
    return run('git', ['-C', this.dir, ...args]);
  }

  /** Writes files (null deletes one), commits them all and returns the new commit's SHA. */
  async commit(files: Readonly<Record<string, string | null>>, message = 'change'): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      const file = join(this.dir, path);
      if (content === null) await rm(file, { force: true });
      else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, content);
      }
    }
    await this.git('add', '--all');
    await this.git('commit', '--quiet', '--allow-empty', '--message', message);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }

  /** Pushes the current commit to a branch, or a tag, of the remote. */
  async push(ref = 'refs/heads/main'): Promise<void> {
    if (ref.startsWith('refs/tags/')) await this.git('tag', '--force', ref.slice('refs/tags/'.length));
    await this.git('push', '--quiet', '--force', 'origin', `HEAD:${ref}`);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
