import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { InventoryEntry } from '../../core/model/inventory.ts';
import { type PartKey, partId } from '../../core/model/part.ts';
import {
  type CheckChange,
  type CheckRecord,
  type DeploymentRecord,
  type EnvironmentState,
  recentJobsAfter,
  type StateChange,
  type Suspension,
  UNKNOWN_SYNC,
} from '../../core/model/records.ts';
import type { PartSnapshot } from '../../core/model/status.ts';
import type { KubeObject } from '../../core/objects.ts';
import type { CheckStore, EnvironmentStore } from '../../core/ports.ts';
import { KEY_PREFIX } from '../../names.ts';

/**
 * Environment items in the state table (the table's shape is in DynamoDbDeliveryLog):
 * - `PART#<app>/<environment>/<part>` / `STATE`: last applied commit, sync status, pin, queued marker, recent
 *   job ids, lock.
 * - same / `INVENTORY`: the objects of the last applied revision.
 * - same / `DESIRED`: the last applied revision's objects, gzipped JSON (absent when too large for an item).
 * - same / `DEPLOY#<started at>#<id>`: one deployment of the history.
 * - same / `CHECK#<at>#<id>`: one scheduled check (expires after a week); STATE holds the latest.
 */
export class DynamoDbEnvironmentStore implements EnvironmentStore, CheckStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(tableName: string, client = new DynamoDBClient({})) {
    this.#table = tableName;
    this.#db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(key: PartKey): Promise<EnvironmentState | undefined> {
    const pk = partition(key);
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': 'INVENTORY', ':to': 'STATE' },
        ConsistentRead: true,
      }),
    );
    return stateOf(Items);
  }

  /** The part's state, latest check and lock (while a deployment holds it), for the operations read model. */
  async summary(key: PartKey): Promise<PartSnapshot> {
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': partition(key), ':from': 'INVENTORY', ':to': 'STATE' },
      }),
    );
    const item = Items.find((i) => i.sk === 'STATE');
    const lock = item?.lock as { owner: string; expiresAt: number } | undefined;
    const held = lock !== undefined && lock.expiresAt >= Math.floor(Date.now() / 1000);
    return {
      state: stateOf(Items),
      lastCheck: item?.lastCheck === undefined ? undefined : unpackCheck(item.lastCheck),
      lock: held
        ? { owner: lock.owner, expiresAt: new Date(lock.expiresAt * 1000).toISOString() }
        : undefined,
    };
  }

  /** The part's recent checks, newest first (they expire after a week). */
  async listChecks(key: PartKey, limit: number): Promise<CheckRecord[]> {
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :check)',
        ExpressionAttributeValues: { ':pk': partition(key), ':check': 'CHECK#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map(({ pk: _, sk: __, expiresAt: ___, ...check }) => unpackCheck(check));
  }

  /** Suspends the part (creating its state when needed), or with null resumes it. */
  async setSuspended(key: PartKey, suspension: Suspension | null): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: partition(key), sk: 'STATE' },
        ...(suspension === null
          ? { UpdateExpression: 'REMOVE suspended' }
          : { UpdateExpression: 'SET suspended = :s', ExpressionAttributeValues: { ':s': suspension } }),
      }),
    );
  }

  async lock(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: partition(key), sk: 'STATE' },
          UpdateExpression: 'SET #lock = :lock',
          ConditionExpression:
            'attribute_not_exists(#lock) OR #lock.expiresAt < :now OR #lock.#owner = :owner',
          ExpressionAttributeNames: { '#lock': 'lock', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':lock': { owner, expiresAt: now + ttlSeconds },
            ':now': now,
            ':owner': owner,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async renew(key: PartKey, owner: string, ttlSeconds: number): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: partition(key), sk: 'STATE' },
          UpdateExpression: 'SET #lock.expiresAt = :expiresAt',
          ConditionExpression: '#lock.#owner = :owner',
          ExpressionAttributeNames: { '#lock': 'lock', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':expiresAt': Math.floor(Date.now() / 1000) + ttlSeconds,
            ':owner': owner,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async unlock(key: PartKey, owner: string): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: partition(key), sk: 'STATE' },
          UpdateExpression: 'REMOVE #lock',
          ConditionExpression: '#lock.#owner = :owner',
          ExpressionAttributeNames: { '#lock': 'lock', '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async appendHistory(record: DeploymentRecord): Promise<void> {
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: historyItem(record) }));
  }

  async recordDeployment(record: DeploymentRecord, change: StateChange): Promise<void> {
    const pk = partition(record.key);
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { pk, sk: 'STATE' }, ConsistentRead: true }),
    );
    const applied = change.applied;
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.#table, Item: historyItem(record) } },
            {
              Update: stateUpdate(
                this.#table,
                pk,
                record,
                change,
                recentJobsAfter(Item?.recentJobs ?? [], record),
              ),
            },
            ...(applied === undefined
              ? []
              : [
                  {
                    Put: {
                      TableName: this.#table,
                      Item: inventoryItem(pk, applied.inventory, record.id),
                    },
                  },
                  desiredItem(this.#table, pk, applied.desired),
                ]),
          ],
        }),
      );
    } catch (error) {
      // The second item is the state update, whose condition is the lock.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (reasons[1]?.Code === 'ConditionalCheckFailed') {
        throw new Error(
          `deployment ${record.id} lost the lock of ${partId(record.key)} before it was recorded`,
        );
      }
      throw error;
    }
  }

  async getDesired(key: PartKey): Promise<KubeObject[] | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { pk: partition(key), sk: 'DESIRED' } }),
    );
    return Item === undefined
      ? undefined
      : (JSON.parse(gunzipSync(Item.objects as Uint8Array).toString('utf8')) as KubeObject[]);
  }

  async recordCheck(key: PartKey, check: CheckRecord, change: CheckChange): Promise<void> {
    const pk = partition(key);
    const expiresAt = Math.floor(Date.now() / 1000) + CHECK_RETENTION_SECONDS;
    const sets = ['lastCheck = :check'];
    const values: Record<string, unknown> = { ':check': packedCheck(check) };
    if (change.sync !== undefined) {
      sets.push('sync = :sync');
      values[':sync'] = change.sync;
    }
    if (change.queued) {
      sets.push('queued = :queued');
      values[':queued'] = change.queued;
    }
    const update = `SET ${sets.join(', ')}${change.queued === null ? ' REMOVE queued' : ''}`;
    // Two plain writes, not a transaction (which bills each item twice): nothing conditions them, and a history
    // item without its STATE update (or the reverse) is only a check the next tick repeats.
    await Promise.all([
      this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk, sk: `CHECK#${check.at}#${check.id}`, ...packedCheck(check), expiresAt },
        }),
      ),
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk, sk: 'STATE' },
          UpdateExpression: update,
          ExpressionAttributeValues: values,
        }),
      ),
    ]);
  }

  async refreshInventory(
    key: PartKey,
    deploymentId: string,
    inventory: readonly InventoryEntry[],
  ): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: inventoryItem(partition(key), inventory, deploymentId),
          ConditionExpression: 'deploymentId = :id',
          ExpressionAttributeValues: { ':id': deploymentId },
        }),
      );
    } catch (error) {
      // A deployment replaced the inventory meanwhile: its resourceVersions are newer.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listDeployments(key: PartKey, limit: number): Promise<DeploymentRecord[]> {
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :deploy)',
        ExpressionAttributeValues: { ':pk': partition(key), ':deploy': 'DEPLOY#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map(({ pk: _, sk: __, objects, ...record }) => ({
      ...(record as Omit<DeploymentRecord, 'objects'>),
      objects: unpack<DeploymentRecord['objects']>(objects),
    }));
  }
}

// Lists that grow with the revision (inventory entries, a deployment's objects, a check's drifted objects) are
// stored gzipped: a 10,000-object revision's inventory is about 270 KB so, within DynamoDB's 400 KB per item.
const pack = (value: unknown): Uint8Array => gzipSync(JSON.stringify(value));
const unpack = <T>(value: unknown): T => JSON.parse(gunzipSync(value as Uint8Array).toString('utf8')) as T;

function historyItem(record: DeploymentRecord) {
  const sk = `DEPLOY#${record.startedAt}#${record.id}`;
  return { pk: partition(record.key), sk, ...record, objects: pack(record.objects) };
}

function inventoryItem(pk: string, inventory: readonly InventoryEntry[], deploymentId: string) {
  return { pk, sk: 'INVENTORY', entries: pack(inventory), deploymentId };
}

const packedCheck = (check: CheckRecord) => ({ ...check, drifted: pack(check.drifted) });
const unpackCheck = (item: Record<string, unknown>): CheckRecord =>
  ({ ...item, drifted: unpack<CheckRecord['drifted']>(item.drifted) }) as CheckRecord;

/** A part's state from its STATE and INVENTORY items, or undefined when it has none. */
function stateOf(items: NonNullable<QueryCommandOutput['Items']>): EnvironmentState | undefined {
  const state = items.find((item) => item.sk === 'STATE');
  if (state === undefined) return undefined;
  const inventory = items.find((item) => item.sk === 'INVENTORY');
  return {
    ...(state.lastApplied === undefined ? {} : { lastApplied: state.lastApplied }),
    ...(state.pin === undefined ? {} : { pin: state.pin }),
    ...(state.queued === undefined ? {} : { queued: state.queued }),
    ...(state.suspended === undefined ? {} : { suspended: state.suspended }),
    sync: state.sync ?? UNKNOWN_SYNC,
    inventory: inventory === undefined ? [] : unpack<InventoryEntry[]>(inventory.entries),
    recentJobs: state.recentJobs ?? [],
  };
}

/** Largest compressed desired state kept; a larger revision is rendered again when a check needs it. */
const MAX_DESIRED_BYTES = 350 * 1024;

/** The revision's desired objects, gzipped, or (too large for an item) the removal of stale ones. */
function desiredItem(table: string, pk: string, desired: readonly KubeObject[]) {
  const compressed = gzipSync(JSON.stringify(desired));
  return compressed.length <= MAX_DESIRED_BYTES
    ? { Put: { TableName: table, Item: { pk, sk: 'DESIRED', objects: compressed } } }
    : { Delete: { TableName: table, Key: { pk, sk: 'DESIRED' } } };
}

/** Check history is kept for a week. */
const CHECK_RETENTION_SECONDS = 7 * 24 * 3600;

function partition(key: PartKey): string {
  return `${KEY_PREFIX.part}${partId(key)}`;
}

/**
 * The state update of a recorded deployment, only while `record.id` holds the lock: the change's sync, applied
 * commit and pin, the queued marker cleared, the recent job ids replaced.
 */
function stateUpdate(
  table: string,
  pk: string,
  record: DeploymentRecord,
  change: StateChange,
  recentJobs: readonly string[],
) {
  const sets = ['recentJobs = :recent'];
  const removes = ['queued'];
  const values: Record<string, unknown> = { ':recent': recentJobs, ':owner': record.id };
  const set = (field: string, value: unknown) => {
    sets.push(`${field} = :${field}`);
    values[`:${field}`] = value;
  };
  if (change.sync !== undefined) set('sync', change.sync);
  if (change.applied !== undefined) set('lastApplied', change.applied.commit);
  if (change.pin === null) removes.push('pin');
  else if (change.pin !== undefined) set('pin', change.pin);
  return {
    TableName: table,
    Key: { pk, sk: 'STATE' },
    UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
    ConditionExpression: '#lock.#owner = :owner',
    ExpressionAttributeNames: { '#lock': 'lock', '#owner': 'owner' },
    ExpressionAttributeValues: values,
  };
}
