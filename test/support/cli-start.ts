// What a `ferry` run costs to start, for the tests and the bench: which modules it loads, and a Node on the PATH
// that cannot run TypeScript (older than 22.18, e.g. a machine's Node 20), which `ferry` may meet.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A module for `--import` that writes `LOADED <url>` on standard error for each file a run loads. */
export const LOAD_LOG = `data:text/javascript,${encodeURIComponent(
  `import { registerHooks } from 'node:module';
   registerHooks({ load(url, context, next) {
     if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
     return next(url, context);
   } });`,
)}`;

/** The packages (sorted) and the number of Ferry's own modules a run under LOAD_LOG loaded. */
export function loadedModules(stderr: string): { packages: string[]; own: number } {
  const urls = stderr
    .split('\n')
    .filter((line) => line.startsWith('LOADED '))
    .map((line) => line.slice('LOADED '.length));
  const packages = urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? []);
  return {
    packages: [...new Set(packages)].sort(),
    own: urls.filter((url) => !url.includes('/node_modules/')).length,
  };
}

/** The first Node on the PATH, outside any node_modules (where the pinned one is), that strips no types. */
export function olderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(dir, 'node');
    if (dir.includes('node_modules') || !existsSync(node)) continue;
    const script = 'process.stdout.write(String(!process.features.typescript))';
    if (execFileSync(node, ['-e', script], { encoding: 'utf8' }) === 'true') return node;
  }
  return undefined;
}
