// The CLI as a user runs it: `bin/ferry.ts` in a child process, in a fresh working directory (so that no
// ferry.config.yaml or .ferry/ of the repository is seen) and without FERRY_* variables of the caller; and an
// AWS install on moto as the stack makes it: a CloudFormation stack whose template creates the state table and
// the FIFO deploy queue with its dead-letter queue, outputs their names and carries the configuration.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import type { Config } from '../../functions/core/config.ts';
import { STACK } from '../../functions/names.ts';
import { uniqueName } from './testbed.ts';

export const FERRY = new URL('../../bin/ferry.ts', import.meta.url).pathname;
const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a user's shell: the caller's, less Ferry's own variables, plus `extra`. */
export function userEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FERRY_')));
  return { ...env, NO_COLOR: '1', ...extra };
}

/** A fresh, empty working directory. */
export const freshDirectory = (): Promise<string> => mkdtemp(join(tmpdir(), 'ferry-cli-cwd-'));

/** Runs `ferry <args>` in `cwd` (a fresh directory unless given). */
export async function ferry(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const cwd = options.cwd ?? (await freshDirectory());
  try {
    const { stdout, stderr } = await run(process.execPath, [FERRY, ...args], {
      cwd,
      env: options.env ?? userEnvironment(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

export interface MotoStack {
  readonly stackName: string;
  readonly region: string;
  readonly tableName: string;
  readonly deployQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** `--stack NAME --region R`. */
  readonly options: readonly string[];
}

/** A stack in moto shaped as FerryStack leaves one: its table, queues, outputs and configuration. */
export async function createMotoStack(config: Config): Promise<MotoStack> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const stackName = uniqueName('ferry-cli');
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Metadata: { [STACK.configMetadata]: config },
    Resources: {
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: `${stackName}-state`,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        },
      },
      DeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `${stackName}-dead.fifo`, FifoQueue: true },
      },
      Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${stackName}-deploy.fifo`,
          FifoQueue: true,
          ContentBasedDeduplication: false,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
            maxReceiveCount: 3,
          },
        },
      },
    },
    Outputs: {
      [STACK.tableOutput]: { Value: { Ref: 'Table' } },
      [STACK.deployQueueOutput]: { Value: { Ref: 'Queue' } },
      [STACK.deadLetterQueueOutput]: { Value: { Ref: 'DeadLetterQueue' } },
    },
  };
  const cloudformation = new CloudFormationClient({ region });
  await cloudformation.send(
    new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }),
  );
  const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue ?? '']));
  cloudformation.destroy();
  return {
    stackName,
    region,
    tableName: outputs.get(STACK.tableOutput) ?? '',
    deployQueueUrl: outputs.get(STACK.deployQueueOutput) ?? '',
    deadLetterQueueUrl: outputs.get(STACK.deadLetterQueueOutput) ?? '',
    options: ['--stack', stackName, '--region', region],
  };
}
