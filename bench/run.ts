// `npm run bench`: starts the test bed and runs every benchmark (`bench/*.bench.ts`) against it, one after
// another, each printing its figures beside the peer's. Arguments narrow the run to the given files.
import { glob } from 'node:fs/promises';
import { runWithTestbed } from '../test/testbed/index.ts';

const files =
  process.argv.length > 2 ? process.argv.slice(2) : await Array.fromAsync(glob('bench/*.bench.ts'));
await runWithTestbed(['bench/sequence.ts', ...files.sort()]);
