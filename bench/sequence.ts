// Runs each benchmark file in its own Node process, one after another, so none disturbs another's timing.
import { spawnSync } from 'node:child_process';

let failed = 0;
for (const file of process.argv.slice(2)) {
  console.log(`\n## ${file}`);
  const { status } = spawnSync(process.execPath, ['--expose-gc', file], { stdio: 'inherit' });
  if (status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
