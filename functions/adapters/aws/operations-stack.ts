// Finding an AWS install from its stack, with the caller's own credentials: CloudFormation's DescribeStacks gives
// the outputs that name the state table and the queues, and GetTemplate the configuration the stack was
// deployed with (the template's metadata). Failures name the stack, the region and what to do.
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { Failure } from '../../core/errors.ts';
import { STACK } from '../../names.ts';
import type { AwsInstallResources } from './operations.ts';

export interface StackInstall extends AwsInstallResources {
  readonly stackName: string;
  readonly region: string;
  /** The configuration in the template's metadata, not validated yet; undefined for a stack deployed without. */
  readonly config: unknown;
}

/** Reads the stack's outputs and the configuration it was deployed with. */
export async function describeStack(stackName: string, region: string): Promise<StackInstall> {
  const cloudformation = new CloudFormationClient({ region });
  const where = `stack ${stackName} in ${region}`;
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const output = (name: string) => {
      const value = outputs.get(name);
      if (value === undefined || value === '') {
        throw new Failure(
          'configuration',
          `${where} has no output ${name}: is it a Ferry stack? Deploy it again with this version (npx cdk deploy)`,
        );
      }
      return value;
    };
    const resources = {
      tableName: output(STACK.tableOutput),
      deployQueueUrl: output(STACK.deployQueueOutput),
      deadLetterQueueUrl: output(STACK.deadLetterQueueOutput),
    };
    const { TemplateBody } = await cloudformation.send(
      new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }),
    );
    return { stackName, region, ...resources, config: configOf(TemplateBody) };
  } catch (error) {
    throw stackFailure(error, where);
  } finally {
    cloudformation.destroy();
  }
}

/** The configuration in a template's metadata; CDK writes templates as JSON. */
function configOf(body: string | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    const template = JSON.parse(body) as { Metadata?: Record<string, unknown> };
    return template.Metadata?.[STACK.configMetadata];
  } catch {
    return undefined;
  }
}

/** A failure to read the stack, classed: a missing stack or refused credentials are the caller's to fix. */
function stackFailure(error: unknown, where: string): unknown {
  if (error instanceof Failure) return error;
  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CloudFormationServiceException && /does not exist/.test(message)) {
    return new Failure('configuration', `no ${where} (check --stack and --region)`);
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new Failure('configuration', `no AWS credentials to read ${where}: ${message}`);
  }
  if (/AccessDenied|UnrecognizedClient|InvalidClientTokenId|ExpiredToken/.test(name)) {
    return new Failure('configuration', `the caller's AWS credentials may not read ${where}: ${message}`);
  }
  return new Failure('transient', `cannot read ${where}: ${message}`);
}
