// A checkout by isomorphic-git keeps its index in the shared object store's directory, so two checkouts at once
// overwrite each other's index. Ferry needs no index: it reads a commit's files once, so it writes the tree itself
// into a fresh directory and only reads the store.
import fs from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import git from 'isomorphic-git';
import { Failure } from '../../core/errors.ts';

/** What isomorphic-git keeps between reads (the pack indexes and packs), for one checkout. */
export type ObjectCache = object;

/** Whether the store holds the commit; throws when it cannot tell (a corrupt store). */
export async function hasCommit(gitdir: string, commit: string, cache: ObjectCache): Promise<boolean> {
  try {
    await git.readCommit({ fs, gitdir, oid: commit, cache });
    return true;
  } catch (error) {
    if (error instanceof git.Errors.NotFoundError) return false;
    throw error;
  }
}

/** Writes the files of a commit of the store into `dir`, which must not exist yet. */
export async function writeCommit(gitdir: string, commit: string, dir: string, cache: ObjectCache) {
  const { commit: object } = await git.readCommit({ fs, gitdir, oid: commit, cache });
  await writeTree(gitdir, object.tree, dir, cache, dir);
}

async function writeTree(
  gitdir: string,
  oid: string,
  dir: string,
  cache: ObjectCache,
  root: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { tree } = await git.readTree({ fs, gitdir, oid, cache });
  // One entry at a time: a wide tree must not open thousands of files at once.
  for (const entry of tree) {
    const path = join(dir, safeName(entry.path));
    if (entry.type === 'tree') await writeTree(gitdir, entry.oid, path, cache, root);
    // A submodule: an empty directory, as git leaves it.
    else if (entry.type === 'commit') await mkdir(path);
    else {
      const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
      if (entry.mode === '120000')
        await symlink(safeLink(Buffer.from(blob).toString('utf8'), path, root), path);
      else await writeFile(path, blob, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
    }
  }
}

/** A tree entry's name, refused when it would write outside its directory (a crafted tree). */
function safeName(name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new Failure('rejected', `the commit holds an unsafe path name ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * A symbolic link's target, refused when it points outside the checkout: rendering follows links, and one to
 * a file of the machine (a credential, the process environment) would put it into a manifest or a message.
 */
function safeLink(target: string, path: string, root: string): string {
  const within = relative(root, resolve(dirname(path), target));
  if (isAbsolute(target) || within === '..' || within.startsWith(`..${'/'}`) || isAbsolute(within)) {
    throw new Failure(
      'rejected',
      `the commit holds a symbolic link that points outside the repository: ${relative(root, path)}`,
    );
  }
  return target;
}
