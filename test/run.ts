// `npm test`: starts the test bed, runs every test file against it with Node's test runner, stops it.
// Arguments narrow the run to the given test files.
import { glob } from 'node:fs/promises';
import { runWithTestbed } from './testbed/index.ts';

const files =
  process.argv.length > 2 ? process.argv.slice(2) : await Array.fromAsync(glob('test/**/*.test.ts'));
await runWithTestbed(['--test', '--test-concurrency=2', '--test-reporter=spec', ...files.sort()]);
