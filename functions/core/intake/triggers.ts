// Which app environments a push concerns: the ref against the branch and tag patterns, the changed paths against
// the path patterns and the environment's configuration path.
import picomatch from 'picomatch';
import type { AppConfig, EnvironmentConfig } from '../config.ts';
import { type PartName, partSettings, partsOf } from '../model/part.ts';
import { type PushEvent, parseRef } from './normalise.ts';

type Matcher = (value: string) => boolean;

interface CompiledTrigger {
  readonly branch: Matcher;
  readonly tag: Matcher;
  /** Undefined when the trigger has no path patterns: any change counts. */
  readonly path: Matcher | undefined;
}

const NOTHING: Matcher = () => false;

// Branch and tag names may contain `/` (`release/*` matches `release/1.4`, not `release/1/4`) and dots.
const compile = (patterns: readonly string[]): Matcher =>
  patterns.length === 0 ? NOTHING : picomatch([...patterns], { dot: true, windows: false });

/** Compiled once per environment configuration object, so a warm function does not compile globs again. */
const compiled = new WeakMap<EnvironmentConfig, CompiledTrigger>();

function triggerOf(environment: EnvironmentConfig): CompiledTrigger {
  let trigger = compiled.get(environment);
  if (trigger === undefined) {
    const { branches, tags, paths } = environment.trigger;
    trigger = {
      branch: compile(branches),
      tag: compile(tags),
      path: paths.length === 0 ? undefined : compile(paths),
    };
    compiled.set(environment, trigger);
  }
  return trigger;
}

export interface EnvironmentMatch {
  readonly app: AppConfig;
  readonly environment: EnvironmentConfig;
  /** `app`, `config` or both; never empty. */
  readonly parts: readonly PartName[];
}

export interface SkippedEnvironment {
  readonly app: string;
  readonly environment: string;
  readonly reason: string;
}

export interface TriggerResult {
  readonly matches: readonly EnvironmentMatch[];
  /** Environments whose ref pattern matched but that are not deployed, with the reason. */
  readonly skipped: readonly SkippedEnvironment[];
}

/** The paths a change (a push, a pull request) touched, and whether they are all of them. */
export type ChangedPaths = Pick<PushEvent, 'changedPaths' | 'changedPathsComplete'>;

/** Whether the change touched a path under `directory` (every path counts when the list is incomplete). */
function touches(change: ChangedPaths, directory: string): boolean {
  if (!change.changedPathsComplete) return true;
  const prefix = directory.endsWith('/') ? directory : `${directory}/`;
  return change.changedPaths.some((path) => path === directory || path.startsWith(prefix));
}

/** Whether every change concerns a part: the app part of an environment with no path patterns. */
export const concernsEveryChange = (environment: EnvironmentConfig, part: PartName): boolean =>
  part === 'app' && triggerOf(environment).path === undefined;

/**
 * Whether a change concerns a part: for the app part, a changed path matches the trigger's path patterns (none:
 * any change does); for the config part, a changed path is under `config.path`. Every path counts as changed
 * when the list is incomplete.
 */
export function concerns(environment: EnvironmentConfig, part: PartName, change: ChangedPaths): boolean {
  if (part === 'config') return environment.config !== undefined && touches(change, environment.config.path);
  const matcher = triggerOf(environment).path;
  return matcher === undefined || !change.changedPathsComplete || change.changedPaths.some((p) => matcher(p));
}

function refMatches(trigger: CompiledTrigger, push: PushEvent): boolean {
  if (push.refKind === 'branch') return trigger.branch(push.refName);
  if (push.refKind === 'tag') return trigger.tag(push.refName);
  return false;
}

/**
 * The environments of the given apps that a push deploys. An environment matches when the ref matches one of its
 * branch (or tag) patterns and, if it has path patterns, a changed path matches one of them; its `config` part
 * is deployed too when the push changed a file under its `config.path`. Each part follows its own `autoSync`
 * switch (with it off, the reconciler reports the new commit as OutOfSync). Suspended environments are skipped.
 * Deletions deploy nothing.
 */
export function matchTriggers(apps: readonly AppConfig[], push: PushEvent): TriggerResult {
  const matches: EnvironmentMatch[] = [];
  const skipped: SkippedEnvironment[] = [];
  if (push.deleted || push.refKind === 'other') return { matches, skipped };
  for (const app of apps) {
    for (const environment of app.environments) {
      const trigger = triggerOf(environment);
      if (!refMatches(trigger, push)) continue;
      const skip = (reason: string) => skipped.push({ app: app.name, environment: environment.name, reason });
      if (environment.suspend) {
        skip('suspended');
        continue;
      }
      const parts: PartName[] = [];
      const reasons: string[] = [];
      if (!concerns(environment, 'app', push)) {
        reasons.push('no changed path matches trigger.paths');
      } else if (!partSettings(app, environment, 'app').autoSync) {
        reasons.push('autoSync is off: the new commit is only reported as OutOfSync');
      } else {
        parts.push('app');
      }
      // The environment's configuration (its own path) follows its own autoSync switch.
      if (concerns(environment, 'config', push)) {
        if (partSettings(app, environment, 'config').autoSync) parts.push('config');
        else reasons.push('config.autoSync is off: the configuration change is only reported as OutOfSync');
      }
      if (parts.length > 0) matches.push({ app, environment, parts });
      else skip(reasons.join('; '));
    }
  }
  return { matches, skipped };
}

/**
 * The environments a pull request into `branch` (a full ref) would deploy once merged: those whose branch
 * patterns match it, each with its parts, whatever the paths (a plan reads the pull request's changed paths
 * when it runs). Environments that follow tags or another environment never deploy a merge; suspended ones are
 * skipped, as for pushes.
 */
export function matchBranch(apps: readonly AppConfig[], branch: string): TriggerResult {
  const matches: EnvironmentMatch[] = [];
  const skipped: SkippedEnvironment[] = [];
  const { kind, name } = parseRef(branch);
  if (kind !== 'branch') return { matches, skipped };
  for (const app of apps) {
    for (const environment of app.environments) {
      if (!triggerOf(environment).branch(name)) continue;
      if (environment.suspend)
        skipped.push({ app: app.name, environment: environment.name, reason: 'suspended' });
      else matches.push({ app, environment, parts: partsOf(environment) });
    }
  }
  return { matches, skipped };
}
