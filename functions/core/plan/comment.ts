// The one comment Ferry keeps on a pull request: a hidden marker that finds it again, a heading, then a section
// per planned part (a summary line, then the plan's lines folded in `<details>`), each between hidden markers
// of its own. Each plan job rewrites its part's section and keeps the others as they are; the whole stays under
// the host's limit, the longest plans cut first, saying where.
import { short } from '../model/commit.ts';
import { partId } from '../model/part.ts';
import { headlineOf, type PartPlan, type PlanVerdict, verdictOf } from './model.ts';
import type { CommentDialect } from './ports.ts';
import { planLines } from './text.ts';

/** A part's section of the comment, as written. */
export interface Section {
  /** The part's id, `app/environment/part`. */
  readonly id: string;
  readonly text: string;
}

const hidden = (dialect: CommentDialect, text: string) =>
  dialect.hidden === 'html-comment' ? `<!-- ${text} -->` : `[//]: # (${text})`;

/** What Ferry's comment starts with, and what finds it again. */
export const commentMarker = (dialect: CommentDialect): string => hidden(dialect, 'ferry:plan');

const sectionStart = (dialect: CommentDialect, id: string) => hidden(dialect, `ferry:plan:part ${id}`);
const sectionEnd = (dialect: CommentDialect) => hidden(dialect, 'ferry:plan:end');

/**
 * The sections of a comment Ferry wrote. Markers count only as whole lines: every line of a plan starts with a
 * verdict or a space, so nothing the revision's author wrote can open or close a section.
 */
export function parseSections(body: string, dialect: CommentDialect): Section[] {
  const sections: Section[] = [];
  const start = new RegExp(
    `^${escapeRegExp(sectionStart(dialect, '§')).replace('§', '([a-z0-9-]+/[a-z0-9-]+/(?:app|config))')}$`,
  );
  const end = sectionEnd(dialect);
  let current: { id: string; lines: string[] } | undefined;
  for (const line of body.split('\n')) {
    const opened = start.exec(line);
    if (opened?.[1] !== undefined) current = { id: opened[1], lines: [line] };
    else if (current !== undefined) {
      current.lines.push(line);
      if (line === end) {
        sections.push({ id: current.id, text: current.lines.join('\n') });
        current = undefined;
      }
    }
  }
  return sections;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ICONS: Readonly<Record<PlanVerdict, string>> = { unchanged: '✅', changes: '📝', refused: '❌' };

/** A fence longer than any run of backticks in the lines, so that none of them closes it. */
function fenceFor(lines: readonly string[]): string {
  const longest = Math.max(2, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  return '`'.repeat(longest + 1);
}

/** A part's section: its summary line, and its plan's lines, folded where the host folds. */
export function renderSection(plan: PartPlan, dialect: CommentDialect): Section {
  const id = partId(plan.key);
  const lines = planLines(plan);
  const fence = fenceFor(lines);
  const headline = headlineOf(plan).replace(/ at ([0-9a-f]{7}):/, ' at `$1`:');
  const block = [`${fence}diff`, ...lines, fence];
  const details = dialect.collapsible
    ? ['<details><summary>Plan</summary>', '', ...block, '', '</details>']
    : block;
  const text = [
    sectionStart(dialect, id),
    `**${ICONS[verdictOf(plan)]} ${headline}**`,
    ...details,
    sectionEnd(dialect),
  ].join('\n');
  return { id, text };
}

/** A section's plan lines cut so that the section loses `excess` characters (or all its lines), saying so. */
function cut(section: Section, excess: number, note: string): Section {
  const lines = section.text.split('\n');
  const open = lines.findIndex((line) => /^`{3,}diff$/.test(line));
  const close = open < 0 ? -1 : lines.indexOf(lines[open]?.slice(0, -'diff'.length) ?? '', open + 1);
  if (open < 0 || close < 0) return section;
  const body = lines.slice(open + 1, close).filter((line) => !line.startsWith('  … '));
  let kept = body.length;
  let removed = 0;
  while (kept > 0 && removed < excess + note.length + 40) removed += (body[--kept]?.length ?? 0) + 1;
  const cutLine = `  … ${body.length - kept} more line(s) cut: ${note}`;
  const text = [...lines.slice(0, open + 1), ...body.slice(0, kept), cutLine, ...lines.slice(close)].join(
    '\n',
  );
  return { id: section.id, text };
}

export interface CommentContent {
  /** The sections, in the order the configuration lists the parts. */
  readonly sections: readonly Section[];
  /** The pull request's head when this was written. */
  readonly commit: string;
}

/**
 * The comment's body: the marker, a heading, the sections. Over the host's limit, the longest section's plan
 * lines are cut first, each cut saying where the whole plan is.
 */
export function assembleComment(content: CommentContent, dialect: CommentDialect): string {
  const head = [
    commentMarker(dialect),
    '### Ferry plan',
    '',
    `What merging this pull request would change, at \`${short(content.commit).slice(0, 7)}\`: each environment planned against its live cluster with server-side dry-runs. Nothing was applied.`,
  ].join('\n');
  const body = (sections: readonly Section[]) =>
    sections.length === 0
      ? `${head}\n\nNo environment deploys what this pull request changes.`
      : [head, ...sections.map((s) => s.text)].join('\n\n');
  let sections = [...content.sections];
  for (let tries = 0; body(sections).length > dialect.maxLength && tries < 4 * sections.length; tries++) {
    const excess = body(sections).length - dialect.maxLength;
    const longest = sections.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    const [app, environment, part] = longest.id.split('/');
    const name = part === 'app' ? `${app}/${environment}` : `${app}/${environment} --part config`;
    const note = `the comment must stay under ${dialect.maxLength.toLocaleString('en')} characters; \`ferry plan ${name} ${content.commit}\` prints the whole plan`;
    sections = sections.map((s) => (s === longest ? cut(s, excess, note) : s));
  }
  const text = body(sections);
  return text.length <= dialect.maxLength ? text : `${text.slice(0, dialect.maxLength - 2)}\n…`;
}

/**
 * The comment's sections once a part's plan is in: its section replaced (or removed, when the pull request no
 * longer concerns it), the others kept, in the order of `parts` (sections of parts no longer configured go).
 */
export function withSection(
  existing: readonly Section[],
  id: string,
  section: Section | undefined,
  parts: readonly string[],
): Section[] {
  const byId = new Map(existing.map((s) => [s.id, s]));
  if (section === undefined) byId.delete(id);
  else byId.set(id, section);
  return parts.flatMap((part) => {
    const found = byId.get(part);
    return found === undefined ? [] : [found];
  });
}
