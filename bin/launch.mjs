#!/usr/bin/env node
// `npx ferry`: runs the CLI (bin/ferry.ts) on a Node that runs TypeScript itself, this one when it can (22.18 and
// 23.6 on), otherwise the Node 24 the project pins as a dependency, so the command works on any supported Node.
// `npx ferry` finds the pinned Node first (npm puts node_modules/.bin on the PATH); the second process is for
// `ferry` started by an older Node, e.g. `node bin/launch.mjs` on Node 20. Compiling the CLI for Node 20 would
// not spare it: Node 20 has no node:sqlite, which every command on the local state reads it with.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
const cli = fileURLToPath(new URL('ferry.ts', import.meta.url));

if (stripsTypes) {
  await import(cli);
} else {
  const pinned = createRequire(import.meta.url).resolve('node/bin/node');
  const child = spawn(pinned, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}
