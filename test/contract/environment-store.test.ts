// The environment store contract on the local mode's SQLite store and on the DynamoDB store over moto.
import { DynamoDbEnvironmentStore } from '../../functions/adapters/aws/dynamodb-environment-store.ts';
import { SqliteStore } from '../../functions/adapters/local/sqlite-store.ts';
import { openStateDatabase, openStateTable } from './adapters.ts';
import { environmentStoreContract } from './environment-store.ts';

environmentStoreContract('SQLite', async () => {
  const { db, close } = await openStateDatabase();
  return { store: new SqliteStore(db), close };
});

environmentStoreContract('DynamoDB on moto', async () => {
  const { tableName, client, close } = await openStateTable();
  return { store: new DynamoDbEnvironmentStore(tableName, client), close };
});
