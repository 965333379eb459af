// State: the one DynamoDB table that holds apps, environments, deployments, inventories, locks and the
// webhook deliveries (which expire).
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { KEY_PREFIX } from '../functions/names.ts';

/** Reads by key and by partition; no Scan. */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

/** Item writes, including the condition checks of transactions; no table-level action. */
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export class State extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      // Webhook delivery records carry `expiresAt` (epoch seconds); DynamoDB deletes them some time after.
      timeToLiveAttribute: 'expiresAt',
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb): encryption at rest whose use shows in CloudTrail, with no key
      // policy to maintain and no kms:Decrypt needed by the functions.
      encryption: TableEncryption.AWS_MANAGED,
      // Deployment history and inventories (what to prune) outlive the stack; deleting the stack keeps them.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Only `pk`/`sk` reads: GetItem, BatchGetItem, Query. */
  grantRead(grantee: IGrantable): void {
    this.table.grant(grantee, ...TABLE_READ_ACTIONS);
  }

  /**
   * The webhook's delivery log: GetItem (seen before?) and PutItem (remember), and only on the delivery
   * records, whose partition keys start with `DELIVERY#`. A webhook that leaked its role could not touch the
   * deployments, inventories or locks.
   */
  grantDeliveryLog(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${KEY_PREFIX.delivery}*`] } },
      }),
    );
  }

  grantReadWrite(grantee: IGrantable): void {
    this.table.grant(grantee, ...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS);
  }
}
