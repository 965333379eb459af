// The example's working copy: seeded once from `demo/example` (a commit on main, tagged v1.0.0), pushed to the
// demo's Git server, and kept, with its history, for a person to change and push again.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { GitEndpoint } from '../devkit/git-server.ts';
import { run } from '../devkit/process.ts';

/** The example app's sources, copied into the working copy on the demo's first start. */
const EXAMPLE = fileURLToPath(new URL('example/', import.meta.url));

/** The repository's name on the demo's Git server. */
export const REPOSITORY = 'demo/hello';

export interface ExampleRepository {
  /** The working copy a person changes and pushes from. */
  readonly dir: string;
  /** The repository's URL on the demo's Git server, without credentials (as Ferry is configured with it). */
  readonly url: string;
}

/**
 * The working copy in `dir`, seeded on the first start, with its remote pointing at the Git server as it runs
 * now (its port changes between starts); the server gets the working copy's branch and tags when it lacks them.
 */
export async function prepareExample(dir: string, server: GitEndpoint): Promise<ExampleRepository> {
  const url = `${server.baseUrl}/${REPOSITORY}.git`;
  const git = (...args: string[]) => run('git', ['-C', dir, ...args]);
  if (!existsSync(join(dir, '.git'))) await seed(dir);
  const remotes = (await git('remote')).split('\n');
  await git('remote', remotes.includes('origin') ? 'set-url' : 'add', 'origin', url);
  // `git push` with no arguments pushes main to origin, as after a `push -u`.
  await git('config', 'branch.main.remote', 'origin');
  await git('config', 'branch.main.merge', 'refs/heads/main');
  // A server that has no such repository yet answers 404: the first push creates it.
  const main = await git('ls-remote', 'origin', 'refs/heads/main').catch(() => '');
  if (main.trim() === '') {
    await git('push', '--quiet', '--tags', 'origin', 'main');
  }
  return { dir, url };
}

/** A new repository holding the example, committed on main and tagged v1.0.0, by the person's own identity. */
async function seed(dir: string): Promise<void> {
  await cp(EXAMPLE, dir, { recursive: true });
  const git = (...args: string[]) => run('git', ['-C', dir, ...args]);
  await git('init', '--quiet', '--initial-branch=main');
  // Commits need an identity: the person's own if git has one, else the demo's, for this copy only.
  const email = await git('config', 'user.email').catch(() => '');
  if (email.trim() === '') {
    await git('config', 'user.name', 'Ferry demo');
    await git('config', 'user.email', 'demo@ferry.invalid');
  }
  await git('add', '--all');
  await git(
    '-c',
    'commit.gpgSign=false',
    'commit',
    '--quiet',
    '--message',
    'The example app: staging and production',
  );
  await git('tag', 'v1.0.0');
}

/** The tag that releases the next version: the newest `v*` tag with its patch number raised. */
export async function nextRelease(example: ExampleRepository): Promise<string> {
  const tags = (await run('git', ['-C', example.dir, 'tag', '--list', 'v*'])).split('\n');
  const newest = semver.rsort(tags.filter((tag) => semver.valid(tag) !== null))[0] ?? 'v1.0.0';
  return `v${semver.inc(newest, 'patch') ?? '1.0.1'}`;
}

/** A word as a POSIX shell reads it: as it is when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The commands a person runs to change the example and push it (staging), and to release it (production). */
export function exampleCommands(example: ExampleRepository, release: string) {
  const dir = shellWord(example.dir);
  const message = shellWord(join(example.dir, 'base', 'message.txt'));
  return {
    change: [
      `echo 'Hello again, from my first change!' > ${message}`,
      `git -C ${dir} commit -qam 'A new message' && git -C ${dir} push -q`,
    ],
    release: [`git -C ${dir} tag ${release} && git -C ${dir} push -q origin ${release}`],
  } as const;
}
