// A plan as lines of text, the same in the terminal (`ferry plan`) and in a pull request's comment (inside a
// `diff` block): one line per object, its verdict first (+ create, ~ change, - prune, ! refused), the fields
// that change indented below with their live and new values. Every line starts with its marker or a space and
// holds one line of text: what the revision's author wrote (names, values, messages) can neither end the block
// nor pass for Ferry's own markup.
import { describeRef, type ObjectRef } from '../objects.ts';
import type { FieldChange, PartPlan } from './model.ts';

/** Values longer than this are cut, saying how long they were. */
const VALUE_LENGTH = 200;
/** Reasons and messages longer than this are cut. */
const REASON_LENGTH = 1000;

/** Text on one line, control characters and line breaks shown as escapes, cut after `max` characters. */
export function oneLine(text: string, max = REASON_LENGTH): string {
  const line = text
    .replace(/\r?\n\s*/g, ' ⏎ ')
    .replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return line.length <= max ? line : `${line.slice(0, max - 1)}… (${line.length} characters)`;
}

/** A field's value: JSON (strings quoted, so that an empty one shows), `(absent)` where there is none. */
export function valueText(value: unknown): string {
  if (value === undefined) return '(absent)';
  return oneLine(JSON.stringify(value) ?? String(value), VALUE_LENGTH);
}

const name = (ref: ObjectRef) => oneLine(describeRef(ref), 300);

const fieldLines = (changes: readonly FieldChange[]) =>
  changes.map(
    (change) =>
      `${' '.repeat(13)}${oneLine(change.path, 300)}: ${valueText(change.live)} → ${valueText(change.desired)}`,
  );

/** One line: its marker (`+`, `~`, `-`, `=`, `!` or a space), its verb in a column, then what it says. */
const line = (marker: string, verb: string, text: string) => `${marker} ${verb.padEnd(10)}${text}`;

const VERBS = { create: '+', change: '~', recreate: '~' } as const;

const PRUNE = {
  prune: ['-', 'prune'],
  retained: ['=', 'retain'],
  gone: [' ', 'gone'],
  left: ['=', 'left'],
} as const;

/** The plan's lines: changes, prunes, refusals, the deletion budget, hooks and notes. */
export function planLines(plan: PartPlan): string[] {
  if (plan.failure !== undefined) return [line('!', 'failed', `could not plan: ${oneLine(plan.failure)}`)];
  const lines: string[] = [];
  for (const change of plan.changes) {
    const note = change.note === undefined ? '' : ` (${change.note})`;
    lines.push(line(VERBS[change.action], change.action, `${name(change.ref)}${note}`));
    lines.push(...fieldLines(change.changes));
  }
  for (const candidate of plan.prune) {
    const [marker, verb] = PRUNE[candidate.verdict];
    lines.push(line(marker, verb, `${name(candidate.ref)}: ${oneLine(candidate.reason)}`));
  }
  for (const refusal of plan.refusals) {
    const what = refusal.ref === undefined ? 'the revision' : name(refusal.ref);
    lines.push(line('!', 'refused', `${what}: ${oneLine(refusal.reason)}`));
  }
  lines.push(...budgetLines(plan));
  for (const hook of plan.hooks) lines.push(line(' ', 'hook', `${hook.phase} ${name(hook.ref)} would run`));
  if (plan.unchanged > 0) lines.push(line(' ', 'unchanged', `${plan.unchanged} object(s)`));
  for (const note of plan.notes) lines.push(line(' ', 'note', oneLine(note)));
  if (lines.length === 0) lines.push(line(' ', 'nothing', 'the revision renders no change to the cluster'));
  return lines;
}

function budgetLines({ budget }: PartPlan): string[] {
  if (budget.refusal !== undefined) return [line('!', 'budget', oneLine(budget.refusal))];
  if (budget.limit === undefined) return [];
  const within = `${budget.candidates} prune candidate(s), within the deletion budget of ${budget.limit}`;
  return [line(' ', 'budget', within)];
}
