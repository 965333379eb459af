import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../objects.ts';

const run = promisify(execFile);

/** The kubectl (with its built-in kustomize) and helm binaries that render Kustomize and Helm sources. */
export interface RenderTools {
  readonly kubectl: string;
  readonly helm: string;
}

export interface RenderRequest {
  /** The checked-out commit. */
  readonly root: string;
  /** The manifests' directory, relative to the root. */
  readonly path: string;
  readonly namespace: string;
  readonly releaseName: string;
  /** Helm values files, relative to the chart directory. */
  readonly valuesFiles: readonly string[];
}

export type SourceKind = 'plain' | 'kustomize' | 'helm';

/** A source that does not render: the message names the file (and line) at fault. */
export class RenderError extends Error {
  override name = 'RenderError';
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export function detectSource(dir: string): SourceKind {
  if (existsSync(join(dir, 'Chart.yaml'))) return 'helm';
  if (KUSTOMIZATION_FILES.some((file) => existsSync(join(dir, file)))) return 'kustomize';
  return 'plain';
}

/** Renders a directory of YAML/JSON manifests, a Kustomize directory or a Helm chart into objects. */
export async function render(
  request: RenderRequest,
  tools: RenderTools,
): Promise<{ kind: SourceKind; objects: KubeObject[] }> {
  const dir = join(request.root, request.path);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new RenderError(`path ${request.path} is not a directory in this commit`);
  }
  const kind = detectSource(dir);
  switch (kind) {
    case 'plain':
      return { kind, objects: await renderPlain(request.root, dir) };
    case 'kustomize':
      return {
        kind,
        objects: parseManifests(
          await tool(tools.kubectl, ['kustomize', dir], 'kustomize'),
          `kustomize ${request.path}`,
        ),
      };
    case 'helm': {
      const values = request.valuesFiles.flatMap((file) => ['--values', join(dir, file)]);
      const args = [
        'template',
        request.releaseName,
        dir,
        '--namespace',
        request.namespace,
        '--include-crds',
        ...values,
      ];
      return {
        kind,
        objects: parseManifests(
          await tool(tools.helm, args, 'helm template'),
          `helm template ${request.path}`,
        ),
      };
    }
  }
}

async function tool(binary: string, args: string[], what: string): Promise<string> {
  const home = tmpdir();
  try {
    const { stdout } = await run(binary, args, {
      maxBuffer: 512 * 1024 * 1024,
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
    throw new RenderError(
      `${what} failed: ${stderr || (error instanceof Error ? error.message : String(error))}`,
    );
  }
}

async function renderPlain(root: string, dir: string): Promise<KubeObject[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && /\.(ya?ml|json)$/i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const objects: KubeObject[] = [];
  for (const file of files)
    objects.push(...parseManifests(await readFile(file, 'utf8'), relative(root, file)));
  return objects;
}

/** Parses a multi-document YAML (or JSON) stream; `List` kinds are flattened. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  parseAllDocuments(text, { prettyErrors: true }).forEach((document, index) => {
    const [error] = document.errors;
    if (error !== undefined) {
      const line = error.linePos?.[0];
      const at = line === undefined ? '' : `:${line.line}:${line.col}`;
      throw new RenderError(`${source}${at}: ${error.message.split('\n')[0]}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const items =
      isObject(value) &&
      typeof value.kind === 'string' &&
      value.kind.endsWith('List') &&
      Array.isArray(value.items)
        ? value.items
        : [value];
    for (const item of items) objects.push(checkObject(item, `${source} (document ${index + 1})`));
  });
  return objects;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkObject(value: unknown, where: string): KubeObject {
  if (!isObject(value)) throw new RenderError(`${where}: not a Kubernetes object`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '')
    throw new RenderError(`${where}: apiVersion is missing`);
  if (typeof kind !== 'string' || kind === '') throw new RenderError(`${where}: kind is missing`);
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new RenderError(`${where}: metadata.name is missing`);
  }
  return value as KubeObject;
}
