// The package's `bin` (bin/launch.mjs) started by a Node that cannot run TypeScript, as `ferry` is on a
// machine whose Node is 20: it runs the CLI on the pinned Node, which reads the local state (node:sqlite, which
// Node 20 lacks), and passes on its output and exit code. Uses the machine's own Node when it is such a one,
// and says so when there is none.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from '../../functions/adapters/local/database.ts';
import { olderNode } from '../support/cli-start.ts';

const run = promisify(execFile);
const LAUNCHER = new URL('../../bin/launch.mjs', import.meta.url).pathname;

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('the launcher on a Node that cannot run TypeScript', () => {
  const node = olderNode();
  const skip = node === undefined ? 'no Node older than 22.18 on the PATH' : false;

  test('runs a command on the pinned Node, which reads the local state', { skip }, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ferry-launch-state-'));
    dirs.push(stateDir);
    openDatabase(stateDir).close();
    const { stdout } = await run(node ?? '', [LAUNCHER, 'status', '--state-dir', stateDir], {
      cwd: stateDir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.match(stdout, /No environment deployed or configured yet/);
  });

  test("passes on the command's output and exit code", { skip }, async () => {
    await assert.rejects(run(node ?? '', [LAUNCHER, 'no-such-command']), (error: unknown) => {
      const failed = error as { code?: number; stderr?: string };
      assert.equal(failed.code, 2);
      assert.match(failed.stderr ?? '', /^ferry: unknown command "no-such-command"/);
      return true;
    });
  });
});
