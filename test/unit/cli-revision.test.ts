// What the CLI accepts wherever a commit is asked for: full and short SHAs, deployment ids and short ids,
// branches, tags and refs; an ambiguous or unknown prefix is refused, naming the candidates or the repository.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveRevision } from '../../bin/revision.ts';
import type { DeploymentRecord } from '../../functions/core/model/records.ts';
import { shortDeploymentId } from '../../functions/core/model/status.ts';

const A = `abcd1${'0'.repeat(35)}`;
const B = `abcd2${'0'.repeat(35)}`;
const C = `c0ffee${'1'.repeat(34)}`;

const deployment = (id: string, commit: string): DeploymentRecord => ({
  id,
  jobId: `job-${id}`,
  key: { app: 'shop', environment: 'staging', part: 'app' },
  commit,
  ref: 'refs/heads/main',
  trigger: { kind: 'push', deliveryId: 'd', provider: 'github' },
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:00:01.000Z',
  result: 'succeeded',
  message: '',
  objects: [],
});

const sources = {
  refs: new Map([
    ['refs/heads/main', A],
    ['refs/tags/v1.0.0', B],
  ]),
  history: [deployment('mj4b2x1k-9f8e7d6c5b', C), deployment('mj4b2a00-11aa22bb33', A)],
  repository: 'shop',
};

describe('resolveRevision', () => {
  test('a full SHA is taken as it is, without looking it up', () => {
    assert.deepEqual(resolveRevision('f'.repeat(40), sources), { kind: 'commit', commit: 'f'.repeat(40) });
  });

  test('branches, tags and full ref names resolve to their commits', () => {
    assert.deepEqual(resolveRevision('main', sources), { kind: 'ref', commit: A, ref: 'refs/heads/main' });
    assert.deepEqual(resolveRevision('v1.0.0', sources), { kind: 'ref', commit: B, ref: 'refs/tags/v1.0.0' });
    assert.deepEqual(resolveRevision('refs/tags/v1.0.0', sources), {
      kind: 'ref',
      commit: B,
      ref: 'refs/tags/v1.0.0',
    });
  });

  test('a unique prefix of a commit of the refs or of the history', () => {
    assert.deepEqual(resolveRevision('abcd2', sources), { kind: 'commit', commit: B });
    assert.deepEqual(resolveRevision('c0ff', sources), { kind: 'commit', commit: C });
  });

  test("a deployment's id or short id (a prefix of it) gives the deployment and its commit", () => {
    const [latest] = sources.history;
    assert.equal(shortDeploymentId('mj4b2x1k-9f8e7d6c5b'), '9f8e7d6c');
    assert.deepEqual(resolveRevision('9f8e7d6c', sources), {
      kind: 'deployment',
      commit: C,
      deployment: latest,
    });
    assert.deepEqual(resolveRevision('mj4b2x1k-9f8e7d6c5b', sources), {
      kind: 'deployment',
      commit: C,
      deployment: latest,
    });
  });

  test('an ambiguous prefix names every candidate; an unknown one names the repository', () => {
    assert.throws(
      () => resolveRevision('abcd', sources),
      /abcd is ambiguous: commit abcd10000000, commit abcd20000000/,
    );
    assert.throws(
      () => resolveRevision('1234abc', sources),
      /no commit or deployment starts with 1234abc: none among the refs of repository shop/,
    );
    assert.throws(
      () => resolveRevision('feature/x', sources),
      /"feature\/x" is no commit, deployment, branch or tag of repository shop/,
    );
    assert.throws(() => resolveRevision('abc', sources), /a short SHA has at least 4 hex digits/);
  });
});
