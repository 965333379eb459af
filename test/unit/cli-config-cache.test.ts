// The validated configuration a state directory keeps (bin/config-cache.ts): read back only for the same bytes
// of the same file, validated again after any change, never kept for a file that changed while it was read nor
// for one that does not validate. An entry is told from a fresh validation by editing it in place.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { openConfigCache } from '../../bin/config-cache.ts';
import { readConfig } from '../../bin/inputs.ts';

const CONFIG = {
  repositories: [
    { name: 'shop', url: 'https://git.example.com/shop.git', provider: 'github', webhookSecret: 'h' },
  ],
  clusters: [{ name: 'local', type: 'kubeconfig', kubeconfig: 'kube/config' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'local', namespace: 'shop', trigger: { branches: ['main'] } },
      ],
    },
  ],
};

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-config-cache-'));
  dirs.push(dir);
  file = join(dir, 'ferry.config.yaml');
  await writeFile(file, JSON.stringify(CONFIG));
});

const entry = () => join(dir, 'config.json');

/** Renames the app in the kept entry, so that a configuration read from it shows. */
async function markEntry(): Promise<void> {
  const kept = JSON.parse(await readFile(entry(), 'utf8')) as { config: { apps: { name: string }[] } };
  for (const app of kept.config.apps) app.name = 'from-the-cache';
  await writeFile(entry(), JSON.stringify(kept));
}

const appNames = async (path: string) => (await readConfig(path, dir)).apps.map((app) => app.name);

describe('the configuration kept in a state directory', () => {
  test('is the validated configuration, and is read back while the file is unchanged', async () => {
    const validated = await readConfig(file);
    assert.deepEqual(await readConfig(file, dir), validated);
    assert.ok(existsSync(entry()));
    assert.equal(
      validated.clusters[0]?.type === 'kubeconfig' && validated.clusters[0].kubeconfig,
      join(dir, 'kube/config'),
    );
    await markEntry();
    assert.deepEqual(await appNames(file), ['from-the-cache']);
  });

  test('is validated again when the file changes, and kept anew', async () => {
    await readConfig(file, dir);
    await markEntry();
    await appendFile(file, '\n# edited\n');
    assert.deepEqual(await appNames(file), ['shop']);
    await markEntry();
    assert.deepEqual(await appNames(file), ['from-the-cache']);
  });

  test('is not read for the same bytes in another file (its relative paths would differ)', async () => {
    await readConfig(file, dir);
    await markEntry();
    const other = join(dir, 'other.yaml');
    await copyFile(file, other);
    assert.deepEqual(await appNames(other), ['shop']);
  });

  test('is not kept when the file changed while it was validated', async () => {
    const cache = await openConfigCache(dir, file);
    const config = await readConfig(file);
    await appendFile(file, '\n# edited\n');
    await cache?.write(config);
    assert.equal(existsSync(entry()), false);
  });

  test('is validated again when the entry is unreadable', async () => {
    await writeFile(entry(), '{"key": "trunc');
    assert.deepEqual(await appNames(file), ['shop']);
  });

  test('is never kept for a configuration that does not validate', async () => {
    await writeFile(file, JSON.stringify({ ...CONFIG, apps: [{ name: 'shop' }] }));
    await assert.rejects(readConfig(file, dir), /invalid .*ferry\.config\.yaml/);
    assert.equal(existsSync(entry()), false);
  });
});
