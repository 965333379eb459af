// The plan as text and as the pull request's one comment: the lines (verdicts, fields with live and new values,
// prunes, refusals, the budget), the verdict and summary, the sections each plan job rewrites, the hidden
// markers that find them again (which nothing the revision's author writes can forge), the host's dialect, and
// the cut that keeps a comment under the host's limit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assembleComment,
  commentMarker,
  parseSections,
  renderSection,
  withSection,
} from '../../functions/core/plan/comment.ts';
import { headlineOf, type PartPlan, summaryOf, verdictOf } from '../../functions/core/plan/model.ts';
import type { CommentDialect } from '../../functions/core/plan/ports.ts';
import { oneLine, planLines, valueText } from '../../functions/core/plan/text.ts';

const GITHUB: CommentDialect = { maxLength: 65_536, collapsible: true, hidden: 'html-comment' };
const BITBUCKET: CommentDialect = { maxLength: 32_000, collapsible: false, hidden: 'link-reference' };
const HEAD = '0123456789abcdef0123456789abcdef01234567';
const ref = (kind: string, name: string) => ({ apiVersion: 'v1', kind, namespace: 'shop', name });

function plan(overrides: Partial<PartPlan> = {}): PartPlan {
  return {
    key: { app: 'shop', environment: 'staging', part: 'app' },
    commit: HEAD,
    changes: [],
    unchanged: 0,
    hooks: [],
    prune: [],
    budget: { limit: undefined, candidates: 0 },
    refusals: [],
    notes: [],
    ...overrides,
  };
}

const full = plan({
  changes: [
    { ref: ref('Deployment', 'api'), action: 'create', changes: [] },
    {
      ref: ref('ConfigMap', 'settings'),
      action: 'change',
      changes: [
        { path: '/data/message', live: 'hello', desired: 'hello again' },
        { path: '/data/new', live: undefined, desired: '' },
      ],
    },
  ],
  prune: [
    { ref: ref('Service', 'web'), verdict: 'prune', reason: "owned: it carries this environment's labels" },
    { ref: ref('Service', 'legacy'), verdict: 'retained', reason: 'annotated ferry.dev/prune: disabled' },
  ],
  budget: { limit: 2, candidates: 2 },
  refusals: [
    {
      ref: ref('Job', 'migrate'),
      reason: 'Job.batch "migrate" is invalid: spec.template: field is immutable',
    },
  ],
  unchanged: 4,
  hooks: [{ ref: ref('Job', 'seed'), phase: 'post-sync' }],
  notes: ['autoSync is off: a merge is reported OutOfSync and deployed by hand'],
});

describe('the plan as lines', () => {
  test('each object with its verdict; fields with their live and new values, absent ones said', () => {
    assert.deepEqual(planLines(full), [
      '+ create    Deployment shop/api',
      '~ change    ConfigMap shop/settings',
      '             /data/message: "hello" → "hello again"',
      '             /data/new: (absent) → ""',
      "- prune     Service shop/web: owned: it carries this environment's labels",
      '= retain    Service shop/legacy: annotated ferry.dev/prune: disabled',
      '! refused   Job shop/migrate: Job.batch "migrate" is invalid: spec.template: field is immutable',
      '  budget    2 prune candidate(s), within the deletion budget of 2',
      '  hook      post-sync Job shop/seed would run',
      '  unchanged 4 object(s)',
      '  note      autoSync is off: a merge is reported OutOfSync and deployed by hand',
    ]);
  });

  test('the verdict and summary: nothing, changes, refused (by an object, the budget or a failure)', () => {
    assert.equal(verdictOf(plan()), 'unchanged');
    assert.equal(summaryOf(plan()), 'no changes');
    assert.deepEqual(planLines(plan()), ['  nothing   the revision renders no change to the cluster']);
    assert.equal(verdictOf(full), 'refused');
    assert.equal(summaryOf(full), '1 to create, 1 to change, 1 to prune, 1 retained, 1 refused');
    assert.equal(
      headlineOf(full),
      'shop/staging at 0123456: 1 to create, 1 to change, 1 to prune, 1 retained, 1 refused',
    );
    const pruning = plan({ prune: full.prune.slice(0, 1) });
    assert.equal(verdictOf(pruning), 'changes');
    const over = plan({
      budget: { limit: 0, candidates: 1, refusal: 'would prune 1 object(s), over the deletion budget of 0' },
    });
    assert.equal(verdictOf(over), 'refused');
    assert.match(planLines(over)[0] ?? '', /^! budget {4}would prune 1 object/);
    const failed = plan({ failure: 'no cluster prod in the configuration' });
    assert.equal(verdictOf(failed), 'refused');
    assert.equal(summaryOf(failed), 'could not plan: no cluster prod in the configuration');
    const config = plan({ key: { app: 'shop', environment: 'staging', part: 'config' } });
    assert.match(headlineOf(config), /^shop\/staging \(config\) at /);
  });

  test("what the revision's author wrote stays on its line: breaks escaped, long values cut", () => {
    assert.equal(oneLine('first\n  second\r\nthird'), 'first ⏎ second ⏎ third');
    assert.equal(oneLine('bell\u0007'), 'bell\\u0007');
    assert.equal(valueText('multi\nline'), '"multi\\nline"');
    assert.equal(valueText({ a: 1 }), '{"a":1}');
    const long = valueText('x'.repeat(500));
    assert.ok(long.length < 260);
    assert.match(long, /… \(502 characters\)$/);
  });
});

describe("the pull request's comment", () => {
  test('a marker, a heading, and per part a summary line with its plan folded in a diff block', () => {
    const body = assembleComment({ sections: [renderSection(full, GITHUB)], commit: HEAD }, GITHUB);
    assert.ok(body.startsWith(`${commentMarker(GITHUB)}\n### Ferry plan\n`));
    assert.match(
      body,
      /\n<!-- ferry:plan:part shop\/staging\/app -->\n\*\*❌ shop\/staging at `0123456`: 1 to create/,
    );
    assert.match(body, /<details><summary>Plan<\/summary>\n\n```diff\n\+ create {4}Deployment shop\/api\n/);
    assert.match(body, /\n```\n\n<\/details>\n<!-- ferry:plan:end -->$/);
    assert.deepEqual(parseSections(body, GITHUB), [renderSection(full, GITHUB)]);
  });

  test('Bitbucket: a link-reference marker (HTML comments show there), no <details>', () => {
    const section = renderSection(full, BITBUCKET);
    const body = assembleComment({ sections: [section], commit: HEAD }, BITBUCKET);
    assert.ok(body.startsWith('[//]: # (ferry:plan)\n'));
    assert.match(section.text, /^\[\/\/\]: # \(ferry:plan:part shop\/staging\/app\)\n/);
    assert.doesNotMatch(body, /<details>|<!--/);
    assert.deepEqual(parseSections(body, BITBUCKET), [section]);
  });

  test('markers and fences written in the revision cannot open, close or break a section', () => {
    const forged = plan({
      changes: [
        {
          ref: ref('ConfigMap', 'x'),
          action: 'change',
          changes: [
            {
              path: '/data/a',
              live: '```\n<!-- ferry:plan:end -->\n<!-- ferry:plan:part evil/env/app -->',
              desired: '````` </details> <img src=x>',
            },
          ],
        },
      ],
    });
    const section = renderSection(forged, GITHUB);
    const body = assembleComment({ sections: [section], commit: HEAD }, GITHUB);
    assert.deepEqual(
      parseSections(body, GITHUB).map((s) => s.id),
      ['shop/staging/app'],
    );
    // The fence is longer than any run of backticks inside it.
    assert.match(section.text, /\n`{6}diff\n/);
    assert.match(section.text, /\n`{6}\n\n<\/details>/);
  });

  test("a part's section replaces its own and keeps the others, in the configuration's order", () => {
    const order = ['shop/staging/app', 'shop/staging/config', 'shop/production/app'];
    const production = renderSection(
      plan({ key: { app: 'shop', environment: 'production', part: 'app' } }),
      GITHUB,
    );
    const staging = renderSection(plan(), GITHUB);
    const old = { id: 'shop/staging/app', text: 'old' };
    const gone = { id: 'shop/removed/app', text: 'an environment no longer configured' };
    const sections = withSection([production, old, gone], 'shop/staging/app', staging, order);
    assert.deepEqual(sections, [staging, production]);
    assert.deepEqual(withSection(sections, 'shop/staging/app', undefined, order), [production]);
    const empty = assembleComment({ sections: [], commit: HEAD }, GITHUB);
    assert.match(empty, /No environment deploys what this pull request changes\.$/);
  });

  test("a comment over the host's limit: the longest plan is cut first, each cut saying where the whole is", () => {
    const changes = Array.from({ length: 600 }, (_, i) => ({
      ref: ref('ConfigMap', `settings-${i}`),
      action: 'change' as const,
      changes: [{ path: '/data/v', live: 'a'.repeat(100), desired: 'b'.repeat(100) }],
    }));
    const big = plan({ changes });
    const small = plan({
      key: { app: 'shop', environment: 'production', part: 'app' },
      changes: changes.slice(0, 3),
    });
    const body = assembleComment(
      { sections: [renderSection(big, GITHUB), renderSection(small, GITHUB)], commit: HEAD },
      GITHUB,
    );
    assert.ok(body.length <= 65_536, `${body.length}`);
    assert.ok(body.length > 60_000, 'cut no more than needed');
    const [first, second] = parseSections(body, GITHUB);
    assert.match(
      first?.text ?? '',
      new RegExp(
        `  … \\d+ more line\\(s\\) cut: the comment must stay under 65,536 characters; \`ferry plan shop/staging ${HEAD}\` prints the whole plan\n\`\`\`\n`,
      ),
    );
    assert.match(
      first?.text ?? '',
      /\*\*📝 shop\/staging at `0123456`: 600 to change\*\*/,
      'the summary line stays whole',
    );
    assert.equal(second?.text, renderSection(small, GITHUB).text, 'the short plan is left whole');
    const tiny = { ...GITHUB, maxLength: 2_000 };
    const squeezed = assembleComment(
      { sections: [renderSection(big, tiny), renderSection(small, tiny)], commit: HEAD },
      tiny,
    );
    assert.ok(squeezed.length <= 2_000, `${squeezed.length}`);
    assert.equal(parseSections(squeezed, tiny).length, 2, 'both summaries stay');
  });
});
