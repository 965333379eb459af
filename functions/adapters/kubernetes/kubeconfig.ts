// A kubeconfig file read as most are written: a server with its CA, and a bearer token or a client certificate.
// `@kubernetes/client-node` takes about 0.7 s to import, most of a CLI command's start; it is loaded only for
// what this reader leaves to it: exec plugins, auth providers, token files, basic authentication, merged files.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { ClusterAccess, Credentials } from './api-client.ts';

/** The kubeconfig a cluster names, else `KUBECONFIG`'s one file, else `~/.kube/config`; undefined for a list. */
export function kubeconfigPath(named: string | undefined): string | undefined {
  if (named !== undefined) return named;
  const listed = (process.env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (listed.length > 1) return undefined;
  return listed[0] ?? join(homedir(), '.kube', 'config');
}

type Entries = readonly { readonly name?: unknown; readonly [key: string]: unknown }[] | undefined;

const entry = (list: unknown, name: unknown, key: string): Record<string, unknown> | undefined => {
  const found = (list as Entries)?.find((e) => e.name === name)?.[key];
  return typeof found === 'object' && found !== null ? (found as Record<string, unknown>) : undefined;
};

const string = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** What a cluster or user entry may hold for this reader to take it whole; anything else goes to client-node. */
const CLUSTER_KEYS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_KEYS = new Set([
  // Not tokenFile: the file is rotated under a running process, and client-node reads it again.
  'token',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'extensions',
]);
const only = (object: Record<string, unknown>, keys: ReadonlySet<string>) =>
  Object.keys(object).every((key) => keys.has(key));

/**
 * The access a kubeconfig's context (`context`, else its current one) gives, or undefined when it needs
 * client-node. A file that cannot be read or parsed throws with the file named.
 */
export async function staticKubeconfigAccess(
  file: string,
  name: string,
  context: string | undefined,
): Promise<ClusterAccess | undefined> {
  const { invalidYamlAt, parseYaml } = await import('../../core/yaml.ts');
  const text = await readFile(file, 'utf8');
  let document: Record<string, unknown> | null;
  try {
    document = parseYaml(text) as Record<string, unknown> | null;
  } catch (error) {
    throw new Error(invalidYamlAt(file, error));
  }
  const chosen = entry(document?.contexts, context ?? document?.['current-context'], 'context');
  const cluster = entry(document?.clusters, chosen?.cluster, 'cluster');
  const user = entry(document?.users, chosen?.user, 'user') ?? {};
  const server = string(cluster?.server);
  // Neither this client nor client-node's credentials as it takes them go through a proxy: say so, not ignore it.
  if (cluster?.['proxy-url'] !== undefined)
    throw new Error(`its proxy-url is not supported: Ferry reaches the API server ${server ?? ''} directly`);
  if (cluster === undefined || server === undefined || !only(cluster, CLUSTER_KEYS) || !only(user, USER_KEYS))
    return undefined;
  const base = dirname(resolve(file));
  const bytes = async (data: unknown, path: unknown): Promise<Buffer | undefined> => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof path === 'string') return readFile(resolve(base, path));
    return undefined;
  };
  const token = string(user.token);
  const tls: Credentials['tls'] = Object.fromEntries(
    Object.entries({
      ca: await bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
      cert: await bytes(user['client-certificate-data'], user['client-certificate']),
      key: await bytes(user['client-key-data'], user['client-key']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
      servername: string(cluster['tls-server-name']),
    }).filter(([, value]) => value !== undefined),
  );
  const credentials: Credentials = {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    tls,
  };
  return { name, server, credentials: async () => credentials };
}
