// The event every notifier sends for a change of a part's sync status, and the texts people read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deliveryId,
  EVENT_MESSAGE_LENGTH,
  eventOf,
  headline,
  notificationOf,
} from '../../functions/adapters/notify/event.ts';
import { slackText } from '../../functions/adapters/notify/webhook.ts';
import type { SyncChange } from '../../functions/core/model/feedback.ts';

const commit = '3f2c1a9e0b4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f';
const failed: SyncChange = {
  key: { app: 'shop', environment: 'production', part: 'app' },
  from: 'Synced',
  to: 'Failed',
  commit,
  message: 'Deployment shop/web: spec.replicas: expected integer\nService shop/web: port out of range',
  at: '2026-12-01T10:00:00.000Z',
};

describe('notification events', () => {
  test('a change is failed, out-of-sync, recovered or first synced', () => {
    assert.equal(eventOf({ from: 'Synced', to: 'Failed' }), 'failed');
    assert.equal(eventOf({ from: 'OutOfSync', to: 'Failed' }), 'failed');
    assert.equal(eventOf({ from: 'Synced', to: 'OutOfSync' }), 'out-of-sync');
    assert.equal(eventOf({ from: 'Failed', to: 'Synced' }), 'recovered');
    assert.equal(eventOf({ from: 'OutOfSync', to: 'Synced' }), 'recovered');
    assert.equal(eventOf({ from: 'Unknown', to: 'Synced' }), 'synced');
    assert.equal(eventOf({ from: 'Synced', to: 'Unknown' }), undefined);
    assert.equal(notificationOf({ ...failed, to: 'Unknown' }), undefined);
  });

  test('the event carries the part, both statuses, the commit, the message and when', () => {
    const message = notificationOf(failed);
    assert.deepEqual(message, {
      version: 1,
      id: deliveryId(failed),
      event: 'failed',
      app: 'shop',
      environment: 'production',
      part: 'app',
      from: 'Synced',
      to: 'Failed',
      commit,
      message: failed.message,
      at: failed.at,
    });
    const { commit: _none, ...withoutCommit } = failed;
    assert.equal('commit' in (notificationOf(withoutCommit) ?? {}), false);
  });

  test('the delivery id is the same for the same change and differs for any other', () => {
    assert.match(deliveryId(failed), /^[0-9a-f]{32}$/);
    assert.equal(deliveryId({ ...failed }), deliveryId(failed));
    const others: SyncChange[] = [
      { ...failed, at: '2026-12-01T10:00:00.001Z' },
      { ...failed, to: 'OutOfSync' },
      { ...failed, from: 'Unknown' },
      { ...failed, commit: commit.replace('3', '4') },
      { ...failed, key: { ...failed.key, part: 'config' } },
      { ...failed, key: { ...failed.key, environment: 'staging' } },
    ];
    const ids = new Set([deliveryId(failed), ...others.map(deliveryId)]);
    assert.equal(ids.size, others.length + 1);
  });

  test('a long message is cut, so that a rejection of a thousand objects still fits a message', () => {
    const long = notificationOf({ ...failed, message: 'x'.repeat(100_000) });
    assert.equal(long?.message.length, EVENT_MESSAGE_LENGTH);
    assert.ok(long?.message.endsWith('…'));
  });

  test('headlines name the part, what happened and the commit', () => {
    const of = (change: Partial<SyncChange>) => {
      const message = notificationOf({ ...failed, ...change });
      assert.ok(message);
      return headline(message);
    };
    assert.equal(of({}), 'shop/production failed at 3f2c1a9e0b4d');
    assert.equal(of({ to: 'OutOfSync' }), 'shop/production is OutOfSync (head 3f2c1a9e0b4d)');
    assert.equal(of({ from: 'Failed', to: 'Synced' }), 'shop/production recovered: Synced at 3f2c1a9e0b4d');
    assert.equal(of({ from: 'Unknown', to: 'Synced' }), 'shop/production is Synced at 3f2c1a9e0b4d');
    assert.equal(
      of({ key: { ...failed.key, part: 'config' } }),
      'shop/production (config) failed at 3f2c1a9e0b4d',
    );
  });

  test('the Slack text: an emoji, the headline and the first line of the reason, escaped', () => {
    const message = notificationOf({ ...failed, message: 'rejected: <script> & "more"\nsecond line' });
    assert.ok(message);
    assert.equal(
      slackText(message),
      ':x: Ferry: shop/production failed at 3f2c1a9e0b4d\nrejected: &lt;script&gt; &amp; "more"',
    );
    const recovered = notificationOf({ ...failed, from: 'Failed', to: 'Synced', message: '' });
    assert.ok(recovered);
    assert.equal(
      slackText(recovered),
      ':white_check_mark: Ferry: shop/production recovered: Synced at 3f2c1a9e0b4d',
    );
  });
});
