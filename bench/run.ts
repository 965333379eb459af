// `npm run bench`: starts the test bed and runs every benchmark (`bench/*.bench.ts`) against it, one after
// another, each printing its figures beside the peer's. Arguments narrow the run to the given files;
// `--quick` runs each with small counts, for development (its figures are not to be published).
import { glob } from 'node:fs/promises';
import { runWithTestbed } from '../test/testbed/index.ts';

const args = process.argv.slice(2);
if (args.includes('--quick')) process.env.FERRY_BENCH_QUICK = '1';
const named = args.filter((arg) => arg !== '--quick');
const files = named.length > 0 ? named : await Array.fromAsync(glob('bench/*.bench.ts'));
await runWithTestbed(['bench/sequence.ts', ...files.sort()]);
