// An AWS install as a target, reached with the caller's own credentials: the stack's outputs name its table and
// queues, its template's metadata holds the configuration it was deployed with (`--config` overrides it), and
// secrets are read from Secrets Manager in the stack's region.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsOperations } from '../functions/adapters/aws/operations.ts';
import { describeStack } from '../functions/adapters/aws/operations-stack.ts';
import { type Config, ConfigError, parseConfig } from '../functions/core/config.ts';
import { Failure } from '../functions/core/errors.ts';
import type { GitSource } from '../functions/core/ports.ts';
import { CliError } from './cli.ts';
import { localConfig, type Target, type TargetValues } from './install.ts';

export async function openAwsTarget(
  stackName: string,
  region: string,
  values: TargetValues,
): Promise<Target> {
  const install = await describeStack(stackName, region).catch((error: unknown) => {
    throw error instanceof Failure ? new CliError(error.message, { cause: error }) : error;
  });
  const title = `Stack: ${stackName} in ${region}`;
  const config =
    values.config !== undefined ? await localConfig(values.config) : stackConfig(install.config, title);
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const dynamodb = new DynamoDBClient({ region });
  // The queue URLs are the stack's outputs: requests go to the region's endpoint (or AWS_ENDPOINT_URL), not
  // to the URL's host.
  const sqs = new SQSClient({ region, useQueueUrlAsEndpoint: false });
  let git: GitSource | undefined;
  return {
    kind: 'aws',
    title,
    operations: new AwsOperations(install, { dynamodb, sqs }),
    config,
    worker: `the worker of stack ${stackName}`,
    secrets: async () => {
      const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const { SecretsManagerSecretSource } = await import(
        '../functions/adapters/aws/secrets-manager-secret-source.ts'
      );
      return new SecretsManagerSecretSource({ client: new SecretsManagerClient({ region }) });
    },
    git: async () => {
      const { IsomorphicGitSource } = await import('../functions/adapters/git/isomorphic-git-source.ts');
      git ??= new IsomorphicGitSource(join(tmpdir(), 'ferry-cli-git'));
      return git;
    },
    close: () => {
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

/** The configuration the stack was deployed with, validated again; undefined for a stack that carries none. */
function stackConfig(embedded: unknown, title: string): Config | undefined {
  if (embedded === undefined) return undefined;
  try {
    return parseConfig(embedded, `the configuration of ${title}`);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}
