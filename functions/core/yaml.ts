// The YAML files a person writes for Ferry, each of one document: the configuration, the local mode's secrets
// and kubeconfigs; the render reads manifests with the same options. js-yaml reads YAML 1.2's core schema (no
// timestamps, no merge keys) and refuses a duplicate key.
import { loadAll, YAMLException } from 'js-yaml';

/**
 * At most 100 aliases a document: each is a reference to its anchor's value until the value is serialised,
 * where a few nested ones (a "billion laughs") would grow to gigabytes.
 */
export const YAML_OPTIONS = { maxAliases: 100 };

/**
 * The value of a YAML text of one document; null for one of none (empty, or comments only). A syntax error, or
 * a second document, throws a `YAMLException`.
 */
export function parseYaml(text: string): unknown {
  const documents = loadAll(text, YAML_OPTIONS);
  if (documents.length > 1) throw new YAMLException('expected a single document, but found more');
  return documents[0] ?? null;
}

/** Where a YAML error is, counted from 1; undefined for an error that is no YAMLException or names no place. */
export function yamlErrorPosition(error: unknown): { line: number; column: number } | undefined {
  const mark = error instanceof YAMLException ? error.mark : undefined;
  return mark === undefined ? undefined : { line: mark.line + 1, column: mark.column + 1 };
}

/**
 * What to say of a file that is not valid YAML when it may hold secrets (tokens, keys): its position only. A
 * YAMLException's message quotes the lines around it, which could hold a value.
 */
export function invalidYamlAt(file: string, error: unknown): string {
  const at = yamlErrorPosition(error);
  return `${file} is not valid YAML${at === undefined ? '' : ` (line ${at.line}, column ${at.column})`}`;
}
