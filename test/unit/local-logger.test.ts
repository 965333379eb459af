// The local mode's log lines: one per event, errors as name and message only.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../functions/adapters/local/logger.ts';

describe('local logger', () => {
  test('JSON lines keep their own fields; errors lose their stack and extra properties', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    const error = Object.assign(new Error('queue down'), {
      request: { headers: { authorization: 'Bearer x' } },
    });
    logger.error('enqueue failed', { error, message: 'from an attribute', jobs: 2 });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line.level, 'error');
    assert.equal(line.message, 'enqueue failed');
    assert.equal(line.message_, 'from an attribute');
    assert.deepEqual(line.error, { name: 'Error', message: 'queue down' });
    assert.equal(line.jobs, 2);
    assert.doesNotMatch(lines[0] ?? '', /Bearer|at /);
  });

  test('text lines for a terminal', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'text', write: (line) => lines.push(line) });
    logger.warn('job failed', {
      group: 'shop/staging',
      error: new TypeError('bad thing'),
      note: 'two words',
    });
    assert.match(
      lines[0] ?? '',
      /^\S+Z WARN {2}job failed group=shop\/staging error=\{"name":"TypeError","message":"bad thing"\} note="two words"$/,
    );
  });
});
