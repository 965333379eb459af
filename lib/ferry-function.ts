// One Ferry Lambda function: a NodejsFunction bundled by the local esbuild, its own role and its own log group.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type Size, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  type Architecture,
  type ILayerVersion,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config.ts';
import { ENV, METRICS } from '../functions/names.ts';

/** The repository root: NodejsFunction's project root, where package-lock.json and functions/ live. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * ESM bundles need a `require` for the CommonJS modules that esbuild inlines. The import is aliased: esbuild
 * does not see the banner, and a bundled `import { createRequire } from 'node:module'` of our own code would
 * otherwise declare the same name twice.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ferryCreateRequire } from 'module'; const require = __ferryCreateRequire(import.meta.url);";

/** Lambda's longest timeout. */
export const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);

/**
 * How a function's Node.js process is sized, for a function whose peak memory matters more than the defaults'
 * headroom: the peak resident memory decides the memory size a function needs.
 */
export interface ProcessTuning {
  /**
   * V8's young generation, in MiB per semi-space (`--max-semi-space-size`). By default it grows to 16 MiB a
   * semi-space for a process that allocates quickly, both semi-spaces resident, most of it garbage.
   */
  readonly semiSpaceMiB?: number;
  /**
   * glibc's malloc arenas (`MALLOC_ARENA_MAX`). By default every thread that allocates (libuv's pool for file
   * I/O, V8's helpers) may get an arena of its own, each holding freed memory apart from the others.
   */
  readonly mallocArenas?: number;
}

/**
 * The variables that start a function's Node.js process as `tuning` asks: stack traces through the bundle's
 * source map always. Benchmarks start the bundles with these, to measure what the stack deploys.
 */
export function processEnvironment(tuning: ProcessTuning = {}): Record<string, string> {
  const nodeOptions = ['--enable-source-maps'];
  if (tuning.semiSpaceMiB !== undefined) nodeOptions.push(`--max-semi-space-size=${tuning.semiSpaceMiB}`);
  return {
    NODE_OPTIONS: nodeOptions.join(' '),
    ...(tuning.mallocArenas === undefined ? {} : { MALLOC_ARENA_MAX: String(tuning.mallocArenas) }),
  };
}

/** Settings that every function of the stack shares. */
export interface FunctionDefaults {
  /** The validated configuration, inlined into every bundle. */
  readonly config: Config;
  readonly logRetention: RetentionDays;
  /** Active X-Ray tracing. */
  readonly tracing: boolean;
}

export interface FerryFunctionProps {
  readonly defaults: FunctionDefaults;
  /** The handler's path, relative to the repository root, e.g. `functions/webhook/handler.ts`. */
  readonly entry: string;
  /** Names the function in logs and Powertools (`ferry-<service>`). */
  readonly service: string;
  readonly description: string;
  readonly architecture: Architecture;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly ephemeralStorageSize?: Size;
  readonly environment: Record<string, string>;
  readonly layers?: ILayerVersion[];
  readonly process?: ProcessTuning;
}

/**
 * A NodejsFunction on Node.js 24 with the project's bundling (ESM, minified, source maps, AWS SDK v3 left to
 * the runtime, the validated configuration inlined as `process.env.FERRY_CONFIG_JSON`), a role of its own
 * that starts with nothing but writing to its own log group, and that log group with a retention.
 */
export class FerryFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: IRole;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: FerryFunctionProps) {
    super(scope, id);
    const { defaults } = props;

    this.logGroup = new LogGroup(this, 'LogGroup', { retention: defaults.logRetention });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Ferry ${props.service} function`,
    });
    // Instead of the AWSLambdaBasicExecutionRole managed policy, which may write to any log group.
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: props.architecture,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ...(props.ephemeralStorageSize === undefined
        ? {}
        : { ephemeralStorageSize: props.ephemeralStorageSize }),
      ...(props.layers === undefined ? {} : { layers: props.layers }),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: defaults.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ...processEnvironment(props.process),
        POWERTOOLS_SERVICE_NAME: `ferry-${props.service}`,
        POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: ['@aws-sdk/*'],
        banner: ESM_REQUIRE_BANNER,
        define: {
          // A JS string literal whose value is the configuration's JSON: each function's readBuiltConfig() reads
          // `process.env.FERRY_CONFIG_JSON` and parses it again, without the schema.
          [`process.env.${ENV.configJson}`]: JSON.stringify(JSON.stringify(defaults.config)),
        },
      },
    });

    if (defaults.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no ' +
          'resource-level permissions; nothing else in this role has a wildcard resource.',
      });
    }
  }
}
