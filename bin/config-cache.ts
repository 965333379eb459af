// The validated configuration kept in a state directory as JSON, so that a command run on it (`ferry status`
// above all) reads its configuration without js-yaml and zod, which would be most of its start. An entry is used
// only for the same bytes of the same file, read from the same place and home directory (relative and `~/`
// kubeconfig paths are resolved), validated by the same schema: the sources of the configuration's module and
// of the modules it imports, so that a change of Ferry's schema or defaults is never read from an old entry.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../functions/core/config.ts';

const SCHEMA = new URL('../functions/core/config.ts', import.meta.url);
const file = (dir: string) => join(dir, 'config.json');

export interface ConfigCache {
  /** The configuration kept for the file as it is now, if one is. */
  read(): Config | undefined;
  /** Keeps `config`, validated from the file, unless the file changed since the cache was opened. */
  write(config: Config): Promise<void>;
}

/** The cache of `dir` for the configuration file `path`; undefined when the file cannot be read. */
export async function openConfigCache(dir: string, path: string): Promise<ConfigCache | undefined> {
  const key = await fileKey(path);
  if (key === undefined) return undefined;
  return {
    read() {
      try {
        const entry = JSON.parse(readFileSync(file(dir), 'utf8')) as { key?: unknown; config?: Config };
        return entry.key === key ? entry.config : undefined;
      } catch {
        return undefined;
      }
    },
    async write(config) {
      // The validation read the file again: keep what it made only if that was still these bytes.
      if ((await fileKey(path)) !== key) return;
      const temporary = `${file(dir)}.${process.pid}`;
      try {
        writeFileSync(temporary, JSON.stringify({ key, config }));
        renameSync(temporary, file(dir));
      } catch {
        // A cache that cannot be written (a read-only state directory) only makes the next run slower.
      }
    },
  };
}

async function fileKey(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return createHash('sha256')
    .update(JSON.stringify([await schemaSources(), resolve(path), homedir(), text]))
    .digest('hex');
}

let sources: Promise<string[]> | undefined;

/** The source of the configuration's module and of every Ferry module it imports, transitively. */
function schemaSources(): Promise<string[]> {
  sources ??= (async () => {
    const seen = new Map<string, string>();
    const pending = [SCHEMA];
    for (let url = pending.pop(); url !== undefined; url = pending.pop()) {
      if (seen.has(url.href)) continue;
      const text = await readFile(url, 'utf8');
      seen.set(url.href, text);
      for (const [, specifier = ''] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        pending.push(new URL(specifier, url));
      }
    }
    return [...seen.values()];
  })();
  return sources;
}
