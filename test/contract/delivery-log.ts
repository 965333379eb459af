// The contract of the webhook delivery log (port `DeliveryLog`), run against every adapter that implements it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DeliveryLog } from '../../functions/core/ports.ts';

/** An adapter under test, fresh for one suite; `close` frees what it holds. */
export interface DeliveryLogUnderTest {
  readonly log: DeliveryLog;
  close(): Promise<void>;
}

/** A delivery key no other test of the suite uses, shaped as intake makes them. */
const freshDelivery = () => `github#${randomBytes(8).toString('hex')}`;

export function deliveryLogContract(adapter: string, open: () => Promise<DeliveryLogUnderTest>): void {
  describe(`delivery log contract: ${adapter}`, () => {
    let underTest: DeliveryLogUnderTest | undefined;
    const log = () => {
      assert.ok(underTest !== undefined, 'the adapter was opened');
      return underTest.log;
    };
    before(async () => {
      underTest = await open();
    });
    after(() => underTest?.close());

    test('a delivery is remembered once, and seen from then on', async () => {
      const delivery = freshDelivery();
      assert.equal(await log().seen(delivery), false);
      assert.equal(await log().remember(delivery, 3600), true);
      assert.equal(await log().seen(delivery), true);
      assert.equal(await log().remember(delivery, 3600), false, 'a redelivery');
      assert.equal(await log().seen(delivery), true);
    });

    test('deliveries are apart: one remembered says nothing of another', async () => {
      const delivery = freshDelivery();
      await log().remember(delivery, 3600);
      assert.equal(await log().seen(freshDelivery()), false);
      assert.equal(
        await log().remember(`gitlab#${delivery.slice('github#'.length)}`, 3600),
        true,
        'another host',
      );
    });

    test('an expired record counts as absent, whether or not it was deleted yet, and can be remembered anew', async () => {
      const delivery = freshDelivery();
      assert.equal(await log().remember(delivery, -60), true, 'a record that expired a minute ago');
      assert.equal(await log().seen(delivery), false);
      assert.equal(await log().remember(delivery, 3600), true);
      assert.equal(await log().seen(delivery), true);
      assert.equal(await log().remember(delivery, 3600), false);
    });

    test('concurrent redeliveries: exactly one remembers', async () => {
      const delivery = freshDelivery();
      const answers = await Promise.all(Array.from({ length: 5 }, () => log().remember(delivery, 3600)));
      assert.deepEqual(
        answers.filter((remembered) => remembered),
        [true],
      );
    });
  });
}
