import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { acceptedSecrets, InvalidSecret } from '../../functions/core/intake/secrets.ts';
import {
  tokensEqual,
  verifyHubSignature,
  verifyStandardWebhook,
} from '../../functions/core/intake/verification.ts';
import { signingToken } from '../support/webhooks.ts';

describe('hub signatures (GitHub, Gitea)', () => {
  // GitHub's documented test vector.
  const secret = "It's a Secret to Everybody";
  const body = 'Hello, World!';
  const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  test('accepts GitHub documented test vector', async () => {
    assert.equal(await verifyHubSignature([secret], body, signature), true);
  });

  test('refuses another secret, another body or a changed signature', async () => {
    assert.equal(await verifyHubSignature(['another secret'], body, signature), false);
    assert.equal(await verifyHubSignature([secret], 'Hello, World?', signature), false);
    assert.equal(await verifyHubSignature([secret], body, `${signature.slice(0, -1)}8`), false);
  });

  test('refuses a SHA-1 signature and malformed headers', async () => {
    const sha1 = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
    assert.equal(await verifyHubSignature([secret], body, sha1), false);
    assert.equal(await verifyHubSignature([secret], body, signature.slice(7)), false);
    assert.equal(await verifyHubSignature([secret], body, signature.toUpperCase()), false);
    assert.equal(await verifyHubSignature([secret], body, ''), false);
  });

  test('an empty or missing payload is refused, never an exception', async () => {
    const overNothing = `sha256=${createHmac('sha256', secret).update('').digest('hex')}`;
    assert.equal(await verifyHubSignature([secret], '', overNothing), false);
    assert.equal(await verifyHubSignature([secret], undefined, signature), false);
  });

  test('accepts any secret of a rotation, and no other', async () => {
    assert.equal(await verifyHubSignature(['new secret', secret], body, signature), true);
    assert.equal(await verifyHubSignature([secret, 'new secret'], body, signature), true);
    assert.equal(await verifyHubSignature(['new secret', 'older'], body, signature), false);
    assert.equal(await verifyHubSignature([], body, signature), false);
  });
});

describe('secret values', () => {
  test('a plain value is one secret, surrounding whitespace ignored', () => {
    assert.deepEqual(acceptedSecrets('s3cret\n'), ['s3cret']);
  });

  test('a JSON array holds the secrets of a rotation', () => {
    assert.deepEqual(acceptedSecrets('["new", " old "]'), ['new', 'old']);
  });

  test('refuses arrays that are empty, hold a non-string or an empty secret, and broken JSON', () => {
    for (const value of ['[]', '[1]', '["a", ""]', '["a"', '  ']) {
      assert.throws(() => acceptedSecrets(value), InvalidSecret, value);
    }
  });

  test('an error never shows the value', () => {
    assert.throws(
      () => acceptedSecrets('["hunter2", 7]'),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });
});

describe('GitLab tokens', () => {
  test('compares exactly', () => {
    assert.equal(tokensEqual('token-1', 'token-1'), true);
    assert.equal(tokensEqual('token-1', 'token-2'), false);
    assert.equal(tokensEqual('token-1', 'token-1 '), false);
    assert.equal(tokensEqual('token-1', ''), false);
  });
});

describe('Standard Webhooks signatures (GitLab signing tokens)', () => {
  const key = signingToken();
  const body = Buffer.from('{"object_kind":"push"}');
  const now = 1_800_000_000;
  const sign = (token: string, id: string, timestamp: number, data: Uint8Array = body) =>
    `v1,${createHmac('sha256', Buffer.from(token.slice(6), 'base64'))
      .update(`${id}.${timestamp}.`)
      .update(data)
      .digest('base64')}`;

  test('accepts a signature by the key within five minutes', () => {
    for (const timestamp of [now, now - 299, now + 299]) {
      const signature = sign(key, 'msg_1', timestamp);
      assert.deepEqual(
        verifyStandardWebhook([key], { id: 'msg_1', timestamp: String(timestamp), signature }, body, now),
        { ok: true },
      );
    }
  });

  test('refuses a stale or future timestamp, even with a valid signature', () => {
    for (const timestamp of [now - 301, now + 301]) {
      const signature = sign(key, 'msg_1', timestamp);
      const verdict = verifyStandardWebhook(
        [key],
        { id: 'msg_1', timestamp: String(timestamp), signature },
        body,
        now,
      );
      assert.equal(verdict.ok, false);
      assert.match(verdict.ok ? '' : verdict.reason, /5 minutes/);
    }
  });

  test('refuses another key, another id, another body, missing headers', () => {
    const timestamp = String(now);
    const signature = sign(key, 'msg_1', now);
    const check = (keys: string[], id: string | undefined, data: Uint8Array, sig = signature) =>
      verifyStandardWebhook(keys, { id, timestamp, signature: sig }, data, now).ok;
    assert.equal(check([signingToken()], 'msg_1', body), false);
    assert.equal(check([key], 'msg_2', body), false);
    assert.equal(check([key], 'msg_1', Buffer.from('{"object_kind":"tag_push"}')), false);
    assert.equal(check([key], undefined, body), false);
    assert.equal(check([], 'msg_1', body), false);
    assert.equal(check([key], 'msg_1', body, signature.replace('v1,', 'v2,')), false);
  });

  test('accepts one of several signatures, and any key of a rotation', () => {
    const other = signingToken();
    const signature = `v1,AAAA ${sign(key, 'msg_1', now)}`;
    const verdict = verifyStandardWebhook(
      [other, key],
      { id: 'msg_1', timestamp: String(now), signature },
      body,
      now,
    );
    assert.deepEqual(verdict, { ok: true });
  });
});
