// Which install a command works on: the local mode's state directory (`--state-dir`, the default) or an AWS
// install (`--stack NAME --region R`, read with the caller's own AWS credentials). Both give the same operations
// port, so every command reads and writes them alike and prints the same output. Adapters are imported only
// when a target is opened, so that `ferry --help` loads none of them.
import { resolve } from 'node:path';
import type { PartKey } from '../functions/core/model/part.ts';
import { defaultStateDir, type OptionHelp, oneOf, SECRETS_HELP, STATE_DIR_HELP, UsageError } from './cli.ts';
import type { Target, TargetValues } from './install.ts';

export { requireConfig, type Target, type TargetValues } from './install.ts';

/** The options that choose and reach a target. */
export const TARGET_OPTIONS = {
  'state-dir': { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  config: { type: 'string', short: 'c' },
  secrets: { type: 'string' },
} as const;

export const TARGET_HELP: readonly OptionHelp[] = [
  STATE_DIR_HELP,
  ['--stack <name>', 'An AWS install: its CloudFormation stack (or FERRY_STACK), with your AWS credentials'],
  ['--region <region>', "The stack's region (default: AWS_REGION or AWS_DEFAULT_REGION)"],
  [
    '-c, --config <file>',
    'Configuration (local: ferry.config.yaml if present; AWS: the one the stack was deployed with)',
  ],
  SECRETS_HELP,
];

/**
 * Opens the target the options name. `existing` refuses a state directory that holds no state yet (a command
 * that only reads it).
 */
export async function openTarget(
  command: string,
  values: TargetValues,
  options: { readonly existing?: boolean } = {},
): Promise<Target> {
  const stack = values.stack ?? (process.env.FERRY_STACK || undefined);
  if (stack !== undefined) {
    if (values['state-dir'] !== undefined) {
      throw new UsageError('--stack and --state-dir name two installs: give one', command);
    }
    const region = values.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
    if (region === undefined) throw new UsageError('--stack needs --region (or AWS_REGION)', command);
    const { openAwsTarget } = await import('./target-aws.ts');
    return openAwsTarget(stack, region, values);
  }
  if (values.region !== undefined) throw new UsageError('--region goes with --stack', command);
  const { openLocalTarget } = await import('./target-local.ts');
  return openLocalTarget(resolve(values['state-dir'] ?? defaultStateDir()), values, options);
}

/**
 * A part named on the command line: `app/environment` (or `app/environment/part`), or `app environment` as
 * two words; `--part` chooses the configuration part. Returns the key and the positionals after it.
 */
export function partArgument(
  command: string,
  positionals: readonly string[],
  part: string | undefined,
): { key: PartKey; rest: string[] } {
  const [first, ...others] = positionals;
  if (first === undefined) throw new UsageError('expected <app>/<environment>', command);
  let words = first.split('/');
  let rest = others;
  if (words.length === 1) {
    const [environment, ...after] = others;
    if (environment === undefined) throw new UsageError('expected <app>/<environment>', command);
    words = [first, environment];
    rest = after;
  }
  const [app = '', environment = '', named, ...extra] = words;
  if (app === '' || environment === '' || extra.length > 0) {
    throw new UsageError(`"${first}" is not <app>/<environment>[/<part>]`, command);
  }
  const choice = oneOf(part ?? named ?? 'app', 'part', command, ['app', 'config']);
  return { key: { app, environment, part: choice }, rest };
}
