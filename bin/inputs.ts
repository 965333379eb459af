// What the commands read before they do anything: the configuration file and the secrets, with the failures a
// user can fix said in one line. The modules that validate them (js-yaml, zod) are imported only when they are
// needed, so that a command whose configuration is kept validated in its state directory loads neither.
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { LocalSecretSource } from '../functions/adapters/local/local-secret-source.ts';
import type { Config } from '../functions/core/config.ts';
import { errorMessage } from '../functions/core/errors.ts';
import { CliError } from './cli.ts';
import { openConfigCache } from './config-cache.ts';

/**
 * Reads and validates the configuration. Relative kubeconfig paths are taken from the configuration file's
 * directory (so that the server finds them wherever it is started), and `~/` from the home directory. With a
 * `cacheDir` (a state directory), the validated configuration is kept there and read back while the file is
 * unchanged.
 */
export async function readConfig(path: string, cacheDir?: string): Promise<Config> {
  const cache = cacheDir === undefined ? undefined : await openConfigCache(cacheDir, path);
  const cached = cache?.read();
  if (cached !== undefined) return cached;
  const config = await validate(path);
  await cache?.write(config);
  return config;
}

async function validate(path: string): Promise<Config> {
  const { ConfigError, loadConfigFile } = await import('../functions/core/config.ts');
  let config: Config;
  try {
    config = await loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(
        `cannot read the configuration ${path}: no such file; start one from the example (cp ferry.config.example.yaml ${path}) or pass --config <file>`,
      );
    }
    throw new CliError(`cannot read the configuration ${path}: ${code ?? errorMessage(error)}`);
  }
  const base = dirname(resolve(path));
  return {
    ...config,
    clusters: config.clusters.map((cluster) => {
      if (cluster.type !== 'kubeconfig' || cluster.kubeconfig === undefined) return cluster;
      const file = cluster.kubeconfig;
      const expanded = file === '~' || file.startsWith('~/') ? join(homedir(), file.slice(1)) : file;
      return { ...cluster, kubeconfig: isAbsolute(expanded) ? expanded : resolve(base, expanded) };
    }),
  };
}

/** The secrets, from the environment and the file if one is given; a file that cannot be used fails now. */
export async function openSecrets(file: string | undefined): Promise<LocalSecretSource> {
  const { LocalSecretSource, SecretsFileError } = await import(
    '../functions/adapters/local/local-secret-source.ts'
  );
  const secrets = new LocalSecretSource({ file });
  try {
    await secrets.check();
  } catch (error) {
    if (error instanceof SecretsFileError) throw new CliError(error.message);
    throw error;
  }
  return secrets;
}
