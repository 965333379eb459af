// `npm test`: starts the test bed, runs every test file against it with Node's test runner, stops it.
// Arguments narrow the run to the given test files.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { glob } from 'node:fs/promises';
import { MissingPrerequisite, startTestbed, testbedEnvironment } from './testbed/index.ts';

const log = (line: string) => console.log(`testbed: ${line}`);
const files =
  process.argv.length > 2 ? process.argv.slice(2) : await Array.fromAsync(glob('test/**/*.test.ts'));

const started = Date.now();
let testbed: Awaited<ReturnType<typeof startTestbed>>;
try {
  testbed = await startTestbed(log);
} catch (error) {
  log(error instanceof MissingPrerequisite ? `missing prerequisite: ${error.message}` : String(error));
  process.exit(1);
}
log(
  `kube-apiserver ${testbed.kubernetes.version}, moto and git ready in ${((Date.now() - started) / 1000).toFixed(1)}s`,
);

try {
  const runner = spawn(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files.sort()],
    {
      env: { ...process.env, ...testbedEnvironment(testbed) },
      stdio: 'inherit',
    },
  );
  const [code] = (await once(runner, 'exit')) as [number | null];
  process.exitCode = code ?? 1;
} finally {
  await testbed.stop();
}
