import type { Config } from '../config.ts';
import type { JobPart } from '../jobs.ts';
import type { EnvironmentCheck } from '../ports.ts';

/**
 * One tick's checks: one per part of every environment that is not suspended, each delayed by a random
 * jitter so that a thousand environments do not reach their Git hosts and clusters in the same second.
 */
export function planChecks(
  config: Config,
  tickId: string,
  now: Date,
  random: () => number = Math.random,
): { check: EnvironmentCheck; delaySeconds: number }[] {
  const jitter = config.settings.reconcileJitterSeconds;
  return config.apps.flatMap((app) =>
    app.environments
      .filter((environment) => !environment.suspend)
      .flatMap((environment) =>
        (environment.config === undefined ? ['app'] : ['app', 'config']).map((part) => ({
          check: {
            app: app.name,
            environment: environment.name,
            part: part as JobPart,
            tickId,
            scheduledAt: now.toISOString(),
          },
          delaySeconds: Math.floor(random() * (jitter + 1)),
        })),
      ),
  );
}

/** A check from a queue message's body, or undefined when the body is not one. */
export function parseEnvironmentCheck(body: string): EnvironmentCheck | undefined {
  try {
    const value = JSON.parse(body) as Partial<EnvironmentCheck>;
    const valid =
      typeof value.app === 'string' &&
      typeof value.environment === 'string' &&
      (value.part === 'app' || value.part === 'config') &&
      typeof value.tickId === 'string' &&
      typeof value.scheduledAt === 'string';
    return valid ? (value as EnvironmentCheck) : undefined;
  } catch {
    return undefined;
  }
}
