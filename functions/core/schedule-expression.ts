// The reconcile schedule's grammar: EventBridge's `rate(...)` and `cron(...)` expressions, as far as the local
// mode can run them as EventBridge does. The configuration refuses the rest, so that whatever it accepts runs the
// same in the stack and in the local mode.

/** A valid schedule expression. */
export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | {
      readonly kind: 'cron';
      /**
       * The same times as a 7-field extended cron pattern (seconds, minutes, hours, day-of-month, month,
       * day-of-week, year), read in UTC with EventBridge's day numbers (1-7 = SUN-SAT), day-of-month AND
       * day-of-week (one of them is always `*`), and `n#L` for the last weekday n of the month.
       */
      readonly pattern: string;
    };

/** Why an expression is refused; the message names the part at fault and how to write it. */
export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError';
}

const RATE_UNITS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names of the values from `min` on (JAN = 1, SUN = 1). */
  readonly names?: readonly string[];
}

const MINUTES: Field = { name: 'minutes', min: 0, max: 59 };
const HOURS: Field = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: Field = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: Field = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: Field = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};
const YEAR: Field = { name: 'year', min: 1970, max: 2199 };

const fail = (message: string): never => {
  throw new ScheduleExpressionError(message);
};

/** Parses `rate(...)` or `cron(...)` as EventBridge reads it; throws a `ScheduleExpressionError` otherwise. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate !== null) return { kind: 'rate', intervalMs: rateMs(rate[1] ?? '') };
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron !== null) return { kind: 'cron', pattern: cronPattern(cron[1] ?? '') };
  return fail('must be rate(...) or cron(...)');
}

/** `N minute(s)|hour(s)|day(s)`, singular for 1 and plural otherwise, as EventBridge insists. */
function rateMs(body: string): number {
  const match = /^(\d+) ([a-z]+)$/.exec(body);
  if (match === null) return fail(`rate(${body}): write rate(N minutes), rate(N hours) or rate(N days)`);
  const count = Number(match[1]);
  const word = match[2] ?? '';
  const unit = word.replace(/s$/, '');
  if (unit === 'second') {
    return fail(
      `rate(${body}): EventBridge rates start at 1 minute; for a shorter interval in the local mode, pass ferry serve --reconcile-interval-seconds ${count}`,
    );
  }
  const unitMs = RATE_UNITS[unit] ?? fail(`rate(${body}): the unit must be minutes, hours or days`);
  if (count < 1) return fail(`rate(${body}): the value must be 1 or more`);
  const spelled = count === 1 ? unit : `${unit}s`;
  if (word !== spelled) return fail(`rate(${body}): EventBridge wants rate(${count} ${spelled})`);
  return count * unitMs;
}

/** EventBridge's six fields (minutes hours day-of-month month day-of-week year) as a 7-field pattern. */
function cronPattern(body: string): string {
  const fields = body.trim().toUpperCase().split(/\s+/);
  if (fields.length !== 6) {
    return fail(
      `cron(${body}) has ${fields.length} fields; EventBridge takes 6 (minutes hours day-of-month month day-of-week year), e.g. cron(0 10 * * ? *)`,
    );
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return fail(
      `cron(${body}): exactly one of day-of-month and day-of-week must be ?, e.g. cron(0 10 * * ? *) or cron(0 10 ? * MON-FRI *)`,
    );
  }
  return [
    '0',
    list(minutes, MINUTES),
    list(hours, HOURS),
    days(dayOfMonth),
    list(month, MONTH),
    weekdays(dayOfWeek),
    list(year, YEAR),
  ].join(' ');
}

/** Day-of-month: `?`, `L` (the last day), `LW` (the last weekday), `nW` (the weekday nearest day n) or a list. */
function days(text: string): string {
  if (text === '?') return '*';
  if (text === 'L' || text === 'LW') return text;
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest !== null) return `${value(nearest[1] ?? '', text, DAY_OF_MONTH)}W`;
  if (/^L-\d+$/.test(text)) {
    return fail(`cron day-of-month "${text}": days before the last are not supported; use L or a day number`);
  }
  if (/[LW]/.test(text)) {
    return fail(`cron day-of-month "${text}": L, LW and nW stand alone in their field, e.g. L or 15W`);
  }
  return list(text, DAY_OF_MONTH);
}

/** Day-of-week: `?`, `L` (Saturday), `nL` (the month's last weekday n), `n#k` (its k-th) or a list. */
function weekdays(text: string): string {
  if (text === '?') return '*';
  if (text === 'L') return String(DAY_OF_WEEK.max);
  const last = /^(\w+)L$/.exec(text);
  if (last !== null) return `${value(last[1] ?? '', text, DAY_OF_WEEK)}#L`;
  const nth = /^(\w+)#([1-5])$/.exec(text);
  if (nth !== null) return `${value(nth[1] ?? '', text, DAY_OF_WEEK)}#${nth[2]}`;
  if (text.includes('#')) {
    return fail(
      `cron day-of-week "${text}": # takes one weekday and its week 1-5 and stands alone (EventBridge reads 3#1,6#3 as two expressions), e.g. 2#1 for the first Monday`,
    );
  }
  if (text.includes('/')) {
    return fail(`cron day-of-week "${text}": EventBridge takes no / here; list the days, e.g. MON,WED,FRI`);
  }
  if (/L/.test(text)) return fail(`cron day-of-week "${text}": L and nL stand alone in their field, e.g. 6L`);
  return list(text, DAY_OF_WEEK);
}

/** A comma list of `*`, values and ranges, each with an optional `/step`; names become numbers. */
function list(text: string, field: Field): string {
  return text
    .split(',')
    .map((item) => listItem(item, text, field))
    .join(',');
}

function listItem(item: string, text: string, field: Field): string {
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return fail(`cron ${field.name} "${text}": "${item}" has two /`);
  const [from = '', to, further] = range.split('-');
  if (further !== undefined) return fail(`cron ${field.name} "${text}": "${range}" is not a range a-b`);
  if (range === '*' && step === undefined) return '*';
  // `*/n` starts at the field's first value and `a/n` runs to its last, as EventBridge reads them; written as
  // a range both ways, since cron implementations differ there (the first year, a bare start).
  const start = range === '*' ? field.min : value(from, text, field);
  const end = range === '*' ? field.max : to === undefined ? undefined : value(to, text, field);
  if (end !== undefined && end < start) {
    return fail(
      `cron ${field.name} "${text}": the range ${range} runs backwards; split it: ${from}-${bound(field, 'max', from)},${bound(field, 'min', from)}-${to}`,
    );
  }
  if (step === undefined) return end === undefined ? `${start}` : `${start}-${end}`;
  const increment = /^\d+$/.test(step) ? Number(step) : 0;
  if (increment < 1 || increment > field.max - field.min) {
    return fail(`cron ${field.name} "${text}": the step /${step} must be 1 to ${field.max - field.min}`);
  }
  return `${start}-${end ?? field.max}/${increment}`;
}

/** The field's first or last value, named if `like` is a name. */
function bound(field: Field, which: 'min' | 'max', like: string): string {
  const name = field.names?.includes(like) ? field.names[field[which] - field.min] : undefined;
  return name ?? String(field[which]);
}

/** A number or name within the field's bounds. */
function value(token: string, text: string, field: Field): number {
  const named = field.names?.indexOf(token) ?? -1;
  const number = named >= 0 ? field.min + named : /^\d+$/.test(token) ? Number(token) : Number.NaN;
  if (number >= field.min && number <= field.max) return number;
  const names = field.names === undefined ? '' : ` or ${field.names[0]}-${field.names.at(-1)}`;
  return fail(`cron ${field.name} "${text}": "${token}" is not ${field.min}-${field.max}${names}`);
}
