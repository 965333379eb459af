import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryLog } from '../../core/ports.ts';
import { KEY_PREFIX } from '../../names.ts';

/**
 * The webhook delivery log in the state table (a string partition key `pk`, a string sort key `sk` and a TTL
 * attribute `expiresAt`, epoch seconds): `DELIVERY#<provider>#<id>` / `DELIVERY`, a delivery already handled
 * (expires). The webhook's role may touch only these items.
 */
export class DynamoDbDeliveryLog implements DeliveryLog {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(tableName: string, client = new DynamoDBClient({})) {
    this.#table = tableName;
    this.#db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async seen(deliveryKey: string): Promise<boolean> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: `${KEY_PREFIX.delivery}${deliveryKey}`, sk: 'DELIVERY' },
        ConsistentRead: true,
      }),
    );
    // As in `remember`: an expired record that TTL has not deleted yet counts as absent.
    return Item !== undefined && Number(Item.expiresAt) >= Math.floor(Date.now() / 1000);
  }

  async remember(deliveryKey: string, retainForSeconds: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: `${KEY_PREFIX.delivery}${deliveryKey}`,
            sk: 'DELIVERY',
            receivedAt: now,
            expiresAt: now + retainForSeconds,
          },
          // TTL deletion lags by up to days: an expired record counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
