// The configuration's durations, apart from its schema: the functions read them without zod.

/** A duration such as `90s`, `10m`, `1h30m` (hours, minutes, seconds). */
export const DURATION = /^(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** The seconds of a duration that the configuration accepted (`10m` is 600). */
export function durationSeconds(text: string): number {
  const [, hours = '0', minutes = '0', seconds = '0'] = DURATION.exec(text) ?? [];
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}
