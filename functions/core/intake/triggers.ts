// Which app environments a push concerns: the ref against the branch and tag patterns, the changed paths against
// the path patterns and the environment's configuration path.
import picomatch from 'picomatch';
import type { AppConfig, EnvironmentConfig } from '../config.ts';
import { type PartName, partSettings } from '../model/part.ts';
import type { PushEvent } from './normalise.ts';

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

/** Whether the push changed a path under `directory` (every path counts when the list is incomplete). */
function touches(push: PushEvent, directory: string): boolean {
  if (!push.changedPathsComplete) return true;
  const prefix = directory.endsWith('/') ? directory : `${directory}/`;
  return push.changedPaths.some((path) => path === directory || path.startsWith(prefix));
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
      const pathMatcher = trigger.path;
      if (
        pathMatcher !== undefined &&
        push.changedPathsComplete &&
        !push.changedPaths.some((p) => pathMatcher(p))
      ) {
        reasons.push('no changed path matches trigger.paths');
      } else if (!partSettings(app, environment, 'app').autoSync) {
        reasons.push('autoSync is off: the new commit is only reported as OutOfSync');
      } else {
        parts.push('app');
      }
      // The environment's configuration (its own path) follows its own autoSync switch.
      const config = environment.config;
      if (config !== undefined && touches(push, config.path)) {
        if (partSettings(app, environment, 'config').autoSync) parts.push('config');
        else reasons.push('config.autoSync is off: the configuration change is only reported as OutOfSync');
      }
      if (parts.length > 0) matches.push({ app, environment, parts });
      else skip(reasons.join('; '));
    }
  }
  return { matches, skipped };
}
