// Builds the Ferry app from CDK context: the configuration file, the stack, and cdk-nag's AwsSolutions checks.
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_CONFIG_FILE, loadDeploymentConfig } from './deployment-config.ts';
import { FerryStack } from './ferry-stack.ts';

/**
 * Context keys (`npx cdk deploy -c key=value`):
 * - `config`: path of the configuration file, default `ferry.config.yaml`;
 * - `stackName`: default `Ferry` (another name installs a second, independent Ferry);
 * - `tracing`: `true` turns on active X-Ray tracing;
 * - `alarmTopicArn`: an SNS topic that the alarms notify;
 * - `notificationTopicArn`: the SNS topic that notifications go to (default: one the stack creates).
 */
export async function buildFerryApp(app: App): Promise<FerryStack> {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const config = await loadDeploymentConfig(context('config') ?? DEFAULT_CONFIG_FILE);
  const alarmTopicArn = context('alarmTopicArn');
  const notificationTopicArn = context('notificationTopicArn');
  const stack = new FerryStack(app, context('stackName') ?? 'Ferry', {
    config,
    tracing: context('tracing') === 'true',
    ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
    ...(notificationTopicArn === undefined ? {} : { notificationTopicArn }),
  });
  // Findings fail the synth; every acknowledgment in lib/ carries its reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
