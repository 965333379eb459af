// What a command works on: an install (the local mode's state directory or an AWS stack), its configuration,
// and a configured part of it. Opened by \`target.ts\`, implemented by \`target-local.ts\` and \`target-aws.ts\`.
import { existsSync } from 'node:fs';
import type { Config } from '../functions/core/config.ts';
import type { ConfiguredPart, PartKey } from '../functions/core/model/part.ts';
import type { GitSource, Operations, SecretSource } from '../functions/core/ports.ts';
import { CliError, defaultConfigPath, err } from './cli.ts';

export interface TargetValues {
  readonly 'state-dir'?: string | undefined;
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly config?: string | undefined;
  readonly secrets?: string | undefined;
}

/** An install a command works on. */
export interface Target {
  readonly kind: 'local' | 'aws';
  /** One line naming it: the state directory and its server, or the stack and its region. */
  readonly title: string;
  readonly operations: Operations;
  /** The configuration, when one was given or found (an AWS stack carries the one it was deployed with). */
  readonly config: Config | undefined;
  /** Who deploys a job enqueued now: a server, the stack's worker; undefined when nothing would (local only). */
  readonly worker: string | undefined;
  /** The secrets the configuration names (repository tokens): the local ones, or Secrets Manager's. */
  secrets(): Promise<SecretSource>;
  /** Git with a cache: the state directory's, or a temporary one. */
  git(): Promise<GitSource>;
  /** The local state directory, for a job deployed here when no server runs on it. */
  readonly stateDir?: string;
  close(): void;
}

/** The configuration a command needs, or a failure saying how to give one. */
export function requireConfig(target: Target): Config {
  if (target.config !== undefined) return target.config;
  throw new CliError(
    target.kind === 'aws'
      ? `${target.title} carries no configuration (deployed by an older Ferry): pass --config <file>`
      : `no configuration: pass --config <file> (default: ${defaultConfigPath()}, not found)`,
  );
}

/** A configured part on a target. */
export interface ManualPart {
  readonly key: PartKey;
  readonly found: ConfiguredPart;
  readonly target: Target;
}

/**
 * The configuration given, else the default one if it is there (one that does not load is then only warned of);
 * validated once per change of the file when a state directory keeps it.
 */
export async function localConfig(path: string | undefined, stateDir?: string): Promise<Config | undefined> {
  if (path === undefined && !existsSync(defaultConfigPath())) return undefined;
  const { readConfig } = await import('./inputs.ts');
  if (path !== undefined) return readConfig(path, stateDir);
  return readConfig(defaultConfigPath(), stateDir).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    err(`warning: ${message.split('\n')[0]}; reading the state without it`);
    return undefined;
  });
}
