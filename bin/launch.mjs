#!/usr/bin/env node
// `npx ferry`: runs the CLI (bin/ferry.ts) on a Node that runs TypeScript itself, this one when it can (22.18 and
// 23.6 on), otherwise the Node 24 the project pins as a dependency, so the command works on any supported Node.
// `npx ferry` finds the pinned Node first (npm puts node_modules/.bin on the PATH); the second process is for
// `ferry` started by an older Node, e.g. `node bin/launch.mjs` on Node 20. Compiling the CLI for Node 20 would
// not spare it: Node 20 has no node:sqlite, which every command on the local state reads it with.
import { spawn } from 'node:child_process';
// enableCompileCache through the default export: Node 20 has no such export, and a missing named one fails the import.
import module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

if (stripsTypes) {
  // Most of a command's start is compiling: stripping the types of Ferry's modules (which first loads Node's type
  // stripper), then compiling them and the packages they import. Node keeps both on disk, in the OS's temporary
  // directory, for the next run, checked against each file's content; NODE_COMPILE_CACHE moves it and
  // NODE_DISABLE_COMPILE_CACHE=1 turns it off. Enabled here, before the first TypeScript file is loaded.
  module.enableCompileCache();
  await import(fileURLToPath(new URL('ferry.ts', import.meta.url)));
} else {
  // This launcher again, on the pinned Node, so that it runs the CLI with the compile cache.
  const pinned = createRequire(import.meta.url).resolve('node/bin/node');
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}
