// Secrets of the local mode: environment variables first, then a YAML file; errors never show a value.
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalSecretSource, secretVariable } from '../../functions/adapters/local/local-secret-source.ts';
import { classify } from '../../functions/core/errors.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-local-secrets-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('local secrets', () => {
  test('a name maps to FERRY_SECRET_ and the name upper-cased, other characters as _', () => {
    assert.equal(secretVariable('ferry/shop/webhook'), 'FERRY_SECRET_FERRY_SHOP_WEBHOOK');
    assert.equal(secretVariable('git-token.v2'), 'FERRY_SECRET_GIT_TOKEN_V2');
  });

  test('environment variables win over the file; lists become the JSON array of accepted secrets', async () => {
    const file = join(dir, 'secrets.yaml');
    await writeFile(
      file,
      'ferry/shop/webhook: from-file\ngit-token: file-token\nrotating:\n  - old-secret\n  - new-secret\n',
    );
    const secrets = new LocalSecretSource({ file, env: { FERRY_SECRET_FERRY_SHOP_WEBHOOK: 'from-env' } });
    assert.equal(await secrets.getSecret('ferry/shop/webhook'), 'from-env');
    assert.equal(await secrets.getSecret('git-token'), 'file-token');
    assert.equal(await secrets.getSecret('rotating'), '["old-secret","new-secret"]');
    assert.equal(await secrets.check(), 3);
  });

  test('a changed file is read again', async () => {
    const file = join(dir, 'changing.yaml');
    await writeFile(file, 'token: first\n');
    const secrets = new LocalSecretSource({ file, env: {} });
    assert.equal(await secrets.getSecret('token'), 'first');
    await writeFile(file, 'token: second\n');
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    assert.equal(await secrets.getSecret('token'), 'second');
  });

  test('a missing secret or a bad file is a configuration failure that names where, never a value', async () => {
    const file = join(dir, 'partial.yaml');
    await writeFile(file, 'other: top-secret-value\n');
    const secrets = new LocalSecretSource({ file, env: {} });
    await assert.rejects(
      secrets.getSecret('ferry/git'),
      (error: Error) =>
        classify(error) === 'configuration' &&
        error.message.includes('FERRY_SECRET_FERRY_GIT') &&
        error.message.includes(file) &&
        !error.message.includes('top-secret-value'),
    );
    await assert.rejects(
      new LocalSecretSource({ env: {} }).getSecret('x'),
      /set FERRY_SECRET_X, or pass --secrets/,
    );
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'token: "unterminated-secret-value\n');
    await assert.rejects(
      new LocalSecretSource({ file: broken, env: {} }).check(),
      (error: Error) =>
        classify(error) === 'configuration' &&
        /not valid YAML/.test(error.message) &&
        !error.message.includes('unterminated-secret'),
    );
    const nested = join(dir, 'nested.yaml');
    await writeFile(nested, 'token:\n  value: nested-secret\n');
    await assert.rejects(
      new LocalSecretSource({ file: nested, env: {} }).getSecret('token'),
      (error: Error) =>
        /"token" must be a string/.test(error.message) && !error.message.includes('nested-secret'),
    );
  });
});
