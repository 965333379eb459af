import type { Config } from '../config.ts';
import type { EnvironmentCheck } from '../model/check.ts';
import { partsOf } from '../model/part.ts';

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
        partsOf(environment).map((part) => ({
          check: {
            app: app.name,
            environment: environment.name,
            part,
            tickId,
            scheduledAt: now.toISOString(),
          },
          delaySeconds: Math.floor(random() * (jitter + 1)),
        })),
      ),
  );
}
