import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesApi } from '../../functions/adapters/kubernetes/api-client.ts';
import { yaml } from './manifests.ts';

export interface TestbedSettings {
  readonly kubeServer: string;
  readonly kubeCaFile: string;
  readonly kubeToken: string;
  readonly awsEndpoint: string;
  readonly gitUrl: string;
  readonly gitToken: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the test bed`);
  }
  return value;
}

/** The endpoints `npm test` exported for the servers it started. */
export function testbed(): TestbedSettings {
  return {
    kubeServer: required('TESTBED_KUBE_SERVER'),
    kubeCaFile: required('TESTBED_KUBE_CA_FILE'),
    kubeToken: required('TESTBED_KUBE_TOKEN'),
    awsEndpoint: required('AWS_ENDPOINT_URL'),
    gitUrl: required('TESTBED_GIT_URL'),
    gitToken: required('TESTBED_GIT_TOKEN'),
  };
}

/** A kubeconfig for the test bed's apiserver, authenticated as its admin. */
export function testbedKubeConfig(): KubeConfig {
  const { kubeServer, kubeCaFile, kubeToken } = testbed();
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'testbed', server: kubeServer, caFile: kubeCaFile, skipTLSVerify: false }],
    users: [{ name: 'admin', token: kubeToken }],
    contexts: [{ name: 'testbed', cluster: 'testbed', user: 'admin' }],
    currentContext: 'testbed',
  });
  return config;
}

/** A name no other test uses, valid as a Kubernetes name, queue name or table name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A kubeconfig file for the test bed's apiserver, as a user of the local mode would have one. */
export async function writeTestbedKubeconfig(): Promise<string> {
  const { kubeServer, kubeCaFile, kubeToken } = testbed();
  const file = join(tmpdir(), `${uniqueName('kubeconfig')}.yaml`);
  await writeFile(
    file,
    yaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'testbed', cluster: { server: kubeServer, 'certificate-authority': kubeCaFile } }],
      users: [{ name: 'admin', user: { token: kubeToken } }],
      contexts: [{ name: 'testbed', context: { cluster: 'testbed', user: 'admin' } }],
      'current-context': 'testbed',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Creates (or keeps) namespaces, as an operator would before handing them to Ferry. */
export async function createNamespaces(api: KubernetesApi, names: readonly string[]): Promise<void> {
  await Promise.all(
    names.map((name) =>
      api.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${name}`,
        query: { fieldManager: 'tests', force: 'true' },
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        contentType: 'application/apply-patch+yaml',
      }),
    ),
  );
}
