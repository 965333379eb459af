import { stringify } from 'yaml';

/** YAML documents for tests, as a developer would commit them. */
export const yaml = (...objects: unknown[]): string => objects.map((o) => stringify(o)).join('---\n');

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
