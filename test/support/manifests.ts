import { dump } from 'js-yaml';

/**
 * YAML documents for tests, as a developer would commit them: a string that YAML 1.1 (the API server's) or 1.2
 * would read as another type is quoted (`'on'`, `'012'`), no line is folded (tests edit the text) and an object
 * met twice is written twice, not as an alias.
 */
export const yaml = (...objects: unknown[]): string =>
  objects.map((o) => dump(o, { lineWidth: -1, noRefs: true })).join('---\n');

export const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

export const configMap = (name: string, data: Record<string, string>, namespace?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
  data,
});

export const deployment = (name: string, image: string, podAnnotations: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name }, annotations: podAnnotations },
      spec: { containers: [{ name: 'main', image }] },
    },
  },
});

export const service = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});

/** A CRD schema with the keys that client models drop: `default`, `enum`, `x-kubernetes-preserve-unknown-fields`. */
export const WIDGET_SCHEMA = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        size: { type: 'string', enum: ['small', 'large'], default: 'small' },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

/** The CRD of namespaced `Widget`s in `group`, version v1. */
export const widgetCrd = (group: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: WIDGET_SCHEMA } }],
  },
});
