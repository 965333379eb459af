// The status page in a real browser (headless Chromium), as a person sees it: the local mode (`ferry serve` as
// a child process) deploys a repository of the test bed's Git server to its apiserver while the page is open;
// the page refreshes itself through a deployment, a drift (a Secret's value masked) and a rejected commit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { browser, contrastRatio } from '../support/browser.ts';
import type { GitWorkspace } from '../support/git.ts';
import { configMap, deployment, yaml } from '../support/manifests.ts';
import { ServeProcess, serveSite } from '../support/serve.ts';
import { testbedKubeConfig } from '../support/testbed.ts';

const TIMEOUT = { timeout: 240_000 };
/** The page refreshes every 5 s: a change shows within a few refreshes. */
const SEEN = { timeout: 30_000 };

const api = new KubernetesApi(testbedKubeConfig());
after(() => api.close());

interface Site {
  readonly app: string;
  readonly namespace: string;
  readonly workspace: GitWorkspace;
  readonly url: string;
}

/** A fresh app whose staging environment reports drift rather than healing it, and `ferry serve` on it. */
async function serving(): Promise<Site> {
  const site = await serveSite({
    webhookSecret: 'ui/hook',
    tokenSecret: 'ui/token',
    secrets: { 'ui/hook': 'unused' },
    environment: { selfHeal: false },
  });
  const { url } = await ServeProcess.start(site, ['--reconcile-interval-seconds', '1']);
  return { ...site, url };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** The revision every step starts from: a namespace, a ConfigMap and a Secret holding `password`. */
const revision = (s: Site, password: string) => ({
  'deploy/ns.yaml': yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.namespace } }),
  'deploy/cm.yaml': yaml(configMap('settings', { v: '1' })),
  'deploy/secret.yaml': yaml({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db' },
    type: 'Opaque',
    data: { password: base64(password) },
  }),
});

/** Changes a live object behind Ferry's back, as a person with kubectl would. */
const patchLive = (path: string, body: unknown) =>
  api.request({ method: 'PATCH', path, body, contentType: 'application/merge-patch+json' });

/** The grid's cell of the app's staging environment. */
const stagingCell = (page: Page, app: string) =>
  page.getByRole('row', { name: new RegExp(`^${app}\\b`) }).getByRole('cell');

/** The text colour of each element the selector finds, and the first opaque background behind it. */
function colours(page: Page, selector: string) {
  // Runs in the page: the DOM's own types are not this project's.
  const script = `[...document.querySelectorAll(${JSON.stringify(selector)})].map((element) => {
    let behind = element;
    let background = 'rgba(0, 0, 0, 0)';
    while (behind !== null) {
      background = getComputedStyle(behind).backgroundColor;
      if (!/rgba\\(.*, 0\\)$/.test(background) && background !== 'transparent') break;
      behind = behind.parentElement;
    }
    return { text: element.textContent.trim(), color: getComputedStyle(element).color, background };
  })`;
  return page.evaluate(script) as Promise<{ text: string; color: string; background: string }[]>;
}

async function assertsReadableContrast(page: Page): Promise<void> {
  const checked = await colours(page, '.status, a, p, dt, dd, th, td, li, h1, h2, h3, code, pre');
  assert.ok(checked.length > 20, 'the page has text to check');
  for (const { text, color, background } of checked) {
    const ratio = contrastRatio(color, background);
    assert.ok(ratio >= 4.5, `"${text.slice(0, 40)}": ${color} on ${background} is ${ratio.toFixed(2)}:1`);
  }
}

/** Landmarks, one heading of level 1, and the grid as a table with its headers. */
async function assertsStructure(page: Page, s: Site): Promise<void> {
  await page.getByRole('banner').waitFor();
  await page.getByRole('main').waitFor();
  await page.getByRole('contentinfo').waitFor();
  assert.deepEqual(await page.getByRole('heading', { level: 1 }).allTextContents(), ['Environments']);
  const grid = page.getByRole('table', { name: /Apps by environment/ });
  await grid.getByRole('columnheader', { name: 'staging' }).waitFor();
  await grid.getByRole('rowheader', { name: s.app }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
}

describe('the status page', () => {
  test(
    'shows a deployment, a drift with the Secret masked and a rejected commit as they happen',
    TIMEOUT,
    async () => {
      const s = await serving();
      const page = await (await browser()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(s.url);
      await assertsStructure(page, s);
      // Nothing is pushed yet: the part was never deployed.
      await stagingCell(page, s.app).getByText('Unknown').waitFor();

      // A deployment: the open page refreshes itself to show it.
      const password = `pw-${randomBytes(6).toString('hex')}`;
      const first = await s.workspace.commit(revision(s, password));
      await s.workspace.push();
      const cell = stagingCell(page, s.app);
      await cell.getByText('Synced').waitFor(SEEN);
      await cell.getByText(`applied ${first.slice(0, 12)}`).waitFor();
      await cell.getByText(`head ${first.slice(0, 12)}`).waitFor();
      await page
        .getByRole('link', { name: new RegExp(`${s.app}/staging`) })
        .first()
        .waitFor();
      await assertsReadableContrast(page);

      await cell.getByRole('link').click();
      await page.waitForURL(`${s.url}/parts/${s.app}/staging/app`);
      assert.deepEqual(await page.getByRole('heading', { level: 1 }).allTextContents(), [`${s.app}/staging`]);
      await page
        .getByRole('navigation', { name: 'Breadcrumb' })
        .getByRole('link', { name: 'Environments' })
        .waitFor();
      const deployed = page.locator('section.deployment').first();
      await deployed.getByRole('heading', { name: new RegExp(`succeeded ${first.slice(0, 12)}`) }).waitFor();
      for (const object of [
        `Namespace ${s.namespace}`,
        `ConfigMap ${s.namespace}/settings`,
        `Secret ${s.namespace}/db`,
      ]) {
        const row = deployed.getByRole('row', { name: new RegExp(`^${object} created`) });
        await row.waitFor();
      }
      await deployed.getByText('a check found a new commit', { exact: true }).waitFor();

      // A drift: the live Secret and ConfigMap changed by hand. The part's page shows the field diff, the Secret's
      // values masked on both sides.
      const livePassword = `live-${randomBytes(6).toString('hex')}`;
      await patchLive(`/api/v1/namespaces/${s.namespace}/secrets/db`, {
        data: { password: base64(livePassword) },
      });
      await patchLive(`/api/v1/namespaces/${s.namespace}/configmaps/settings`, { data: { v: 'changed' } });
      const drift = page.getByRole('region', { name: 'Drift' });
      await page.locator('.facts').first().getByText('OutOfSync', { exact: true }).waitFor(SEEN);
      const secretDiff = drift.getByRole('table', { name: `Secret ${s.namespace}/db` });
      await secretDiff.waitFor(SEEN);
      await secretDiff.getByRole('row', { name: '/data/password (masked) (masked)' }).waitFor();
      const configDiff = drift.getByRole('table', { name: `ConfigMap ${s.namespace}/settings` });
      await configDiff.getByRole('row', { name: '/data/v changed 1' }).waitFor();
      const html = await page.content();
      for (const value of [password, livePassword, base64(password), base64(livePassword)]) {
        assert.ok(!html.includes(value), 'no Secret value is on the page');
      }
      await assertsReadableContrast(page);

      // A rejected commit: the failure and its reason, on the part's page and in the grid.
      const web = deployment('web', 'nginx:1.27');
      const bad = await s.workspace.commit({
        'deploy/web.yaml': yaml({ ...web, spec: { ...web.spec, replicas: 'many' } }),
      });
      await s.workspace.push();
      const failed = page.locator('section.deployment').first();
      await failed.getByRole('heading', { name: new RegExp(`failed ${bad.slice(0, 12)}`) }).waitFor(SEEN);
      await failed.getByText('rejected', { exact: true }).waitFor();
      await failed
        .locator('pre.message')
        .getByText(/Deployment .*web.*spec\.replicas/s)
        .waitFor();
      await page.locator('.facts').first().getByText('Failed', { exact: true }).waitFor();

      await page.getByRole('link', { name: 'Environments' }).click();
      await stagingCell(page, s.app).getByText('Failed', { exact: true }).waitFor();
      await stagingCell(page, s.app)
        .getByText(/rejected/)
        .first()
        .waitFor();
      assert.deepEqual(errors, [], 'no script error');
      await page.close();
    },
  );

  test(
    'is readable without JavaScript, refreshing itself, and stops refreshing when asked',
    TIMEOUT,
    async () => {
      const s = await serving();
      const context = await (await browser()).newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(`${s.url}/parts/${s.app}/staging/app`);
      assert.deepEqual(await page.getByRole('heading', { level: 1 }).allTextContents(), [`${s.app}/staging`]);
      for (const name of ['Drift', 'Deployments', 'Queue', 'Checks']) {
        await page.getByRole('heading', { level: 2, name }).waitFor();
      }
      await page.getByText('Stop refreshing').waitFor();
      // The meta refresh of <noscript> reloads the page by itself.
      const reloaded = page.waitForEvent('load', { timeout: 20_000 });
      assert.ok(await reloaded);

      await page.getByRole('link', { name: 'Stop refreshing' }).click();
      await page.getByText('not refreshing').waitFor();
      assert.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0);
      assert.equal(await page.locator('[hx-trigger]').count(), 0);
      await page.getByRole('link', { name: 'Refresh automatically' }).waitFor();

      const missing = await page.goto(`${s.url}/parts/${s.app}/nowhere/app`);
      assert.equal(missing?.status(), 404);
      await page.getByRole('heading', { name: 'No such part' }).waitFor();
      await context.close();
    },
  );
});
