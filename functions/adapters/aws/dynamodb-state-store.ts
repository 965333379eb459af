import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryLog } from '../../core/ports.ts';

/**
 * Ferry's state in one DynamoDB table with a string partition key `pk`, a string sort key `sk` and a TTL
 * attribute `expiresAt` (epoch seconds). Item kinds:
 * - `DELIVERY#<provider>#<id>` / `DELIVERY`: a webhook delivery already handled (expires).
 */
export class DynamoDbStateStore implements DeliveryLog {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(tableName: string, client = new DynamoDBClient({})) {
    this.#table = tableName;
    this.#db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async remember(deliveryKey: string, retainForSeconds: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: `DELIVERY#${deliveryKey}`,
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
