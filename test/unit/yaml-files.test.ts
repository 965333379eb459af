// The YAML files a person writes for Ferry (configuration, secrets, kubeconfig): YAML 1.2's core schema, one
// document, no duplicate key nor alias bomb, and errors that say where.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { YAMLException } from 'js-yaml';
import { LocalSecretSource } from '../../functions/adapters/local/local-secret-source.ts';
import { ConfigError, loadConfigFile } from '../../functions/core/config.ts';
import { parseYaml } from '../../functions/core/yaml.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-yaml-files-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const file = async (name: string, text: string): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

describe('YAML files', () => {
  test("values as YAML 1.2's core schema reads them; none for an empty file", () => {
    assert.deepEqual(parseYaml('on: yes\nday: 2001-12-14\nn: 012\n<<: {a: 1}\nx: ~\n'), {
      on: 'yes',
      day: '2001-12-14',
      n: 12,
      '<<': { a: 1 },
      x: null,
    });
    assert.equal(parseYaml(''), null);
    assert.equal(parseYaml('# nothing yet\n'), null);
  });

  test('a second document, a duplicate key and an alias bomb are refused', () => {
    assert.throws(() => parseYaml('a: 1\n---\nb: 2\n'), YAMLException);
    assert.throws(() => parseYaml('a: 1\na: 2\n'), /duplicated mapping key/);
    const levels = Array.from(
      { length: 12 },
      (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`)}]`,
    );
    assert.throws(
      () => parseYaml(['l0: &l0 x', ...levels].join('\n')),
      /aliases exceeded maxAliases \(100\)/,
    );
  });

  test("the configuration's error names the file, the line and the column, and shows the lines", async () => {
    const path = await file('ferry.config.yaml', 'repositories: []\nclusters: []\nrepositories: []\n');
    await assert.rejects(loadConfigFile(path), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /^invalid .*ferry\.config\.yaml: duplicated mapping key at line 3, column 1:\n/,
      );
      assert.match(error.message, / 3 \| repositories: \[\]\n-+\^/);
      return true;
    });
  });

  test("a secrets file's error says where, never what", async () => {
    const path = await file('secrets.yaml', 'token: first-secret\ntoken: second-secret\n');
    await assert.rejects(new LocalSecretSource({ file: path, env: {} }).check(), (error: Error) => {
      assert.equal(error.message, `${path} is not valid YAML (line 2, column 1)`);
      return true;
    });
    assert.equal(await new LocalSecretSource({ file: await file('empty.yaml', '# none yet\n') }).check(), 0);
  });
});
