// The delivery log contract on the local mode's SQLite store and on the DynamoDB delivery log over moto.
import { DynamoDbDeliveryLog } from '../../functions/adapters/aws/dynamodb-delivery-log.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { openStateDatabase, openStateTable } from './adapters.ts';
import { deliveryLogContract } from './delivery-log.ts';

deliveryLogContract('SQLite', async () => {
  const { db, close } = await openStateDatabase();
  return { log: new SqliteStore(db), close };
});

deliveryLogContract('DynamoDB on moto', async () => {
  const { tableName, client, close } = await openStateTable();
  return { log: new DynamoDbDeliveryLog(tableName, client), close };
});
