import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readBuiltConfig } from '../../functions/core/built-config.ts';
import { type ConfigInput, parseConfig } from '../../functions/core/config.ts';

const input = {
  repositories: [
    { name: 'shop', url: 'https://github.com/acme/shop.git', provider: 'github', webhookSecret: 's' },
  ],
  clusters: [{ name: 'main', type: 'eks', clusterName: 'main' }],
  apps: [
    {
      name: 'shop',
      repository: 'shop',
      path: 'deploy',
      environments: [
        { name: 'staging', cluster: 'main', namespace: 'shop', trigger: { branches: ['main'] } },
      ],
    },
  ],
} satisfies ConfigInput;

describe("the functions' built-in configuration", () => {
  test('reads the configuration the stack validated', () => {
    const validated = parseConfig(input);
    assert.deepEqual(readBuiltConfig(JSON.stringify(validated)), validated);
  });

  test('refuses a configuration without the defaults, a missing one and JSON of another shape', () => {
    assert.throws(() => readBuiltConfig(JSON.stringify(input)), /not a validated configuration/);
    assert.throws(() => readBuiltConfig(undefined), /not set/);
    assert.throws(() => readBuiltConfig('null'), /not a validated configuration/);
    assert.throws(() => readBuiltConfig('{"settings":{}}'), /not a validated configuration/);
  });
});
