import { ClusterApiError } from '../../core/errors.ts';
import { type KubeObject, type ObjectRef, refOf } from '../../core/objects.ts';
import { FIELD_MANAGER } from '../../core/ownership.ts';
import type { Cluster, ResourceType } from '../../core/ports.ts';
import type { KubernetesApi } from './api-client.ts';

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

interface ObjectList {
  metadata: { continue?: string };
  items: KubeObject[];
}

/** A `Cluster` over the Kubernetes REST API, with discovery cached per API group version. */
export class KubernetesCluster implements Cluster {
  readonly #api: KubernetesApi;
  #discovery = new Map<string, Promise<Map<string, ResourceType>>>();

  constructor(api: KubernetesApi) {
    this.#api = api;
  }

  resourceType(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    let kinds = this.#discovery.get(apiVersion);
    if (kinds === undefined) {
      kinds = this.#discover(apiVersion);
      this.#discovery.set(apiVersion, kinds);
      // A failed or empty discovery is not cached: the group may be served soon (a CRD being established).
      kinds.then(
        (found) => found.size === 0 && this.#discovery.delete(apiVersion),
        () => this.#discovery.delete(apiVersion),
      );
    }
    return kinds.then((found) => found.get(kind));
  }

  refreshResourceTypes(): void {
    this.#discovery = new Map();
  }

  async #discover(apiVersion: string): Promise<Map<string, ResourceType>> {
    const kinds = new Map<string, ResourceType>();
    try {
      const list = await this.#api.request<ApiResourceList>({ method: 'GET', path: versionPath(apiVersion) });
      for (const { name, kind, namespaced } of list.resources) {
        if (!name.includes('/')) kinds.set(kind, { resource: name, namespaced });
      }
    } catch (error) {
      if (!(error instanceof ClusterApiError && error.status === 404)) throw error;
    }
    return kinds;
  }

  async #path(ref: Pick<ObjectRef, 'apiVersion' | 'kind' | 'namespace'>, name?: string): Promise<string> {
    const type = await this.resourceType(ref.apiVersion, ref.kind);
    if (type === undefined) {
      throw new ClusterApiError(
        404,
        'NotFound',
        `the cluster does not serve kind ${ref.kind} in ${ref.apiVersion}`,
      );
    }
    let path = versionPath(ref.apiVersion);
    if (type.namespaced && ref.namespace !== undefined)
      path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    else if (type.namespaced && name !== undefined) {
      throw new ClusterApiError(422, 'Invalid', `${ref.kind} ${name} is namespaced but has no namespace`);
    }
    path += `/${type.resource}`;
    return name === undefined ? path : `${path}/${encodeURIComponent(name)}`;
  }

  /**
   * Server-side apply refuses a field its schema does not declare whatever `fieldValidation` says; the directive
   * only decides whether the API server parses the body a second time, as strict YAML, for duplicate keys. A body
   * of `JSON.stringify` has none (the render refuses them in Git's files, with file and line), so `Ignore` spares
   * that parse: a fifth of the API server's CPU for a dry-run (710 to 730 ms a thousand instead of 900 to 1,000).
   */
  async apply(object: KubeObject, { dryRun }: { readonly dryRun: boolean }): Promise<KubeObject> {
    const { managedFields: _, resourceVersion: __, ...metadata } = object.metadata;
    return this.#api.request<KubeObject>({
      method: 'PATCH',
      path: await this.#path(refOf(object), object.metadata.name),
      query: {
        fieldManager: FIELD_MANAGER,
        force: 'true',
        fieldValidation: 'Ignore',
        dryRun: dryRun ? 'All' : undefined,
      },
      body: { ...object, metadata },
      contentType: 'application/apply-patch+yaml',
    });
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return await this.#api.request<KubeObject>({ method: 'GET', path: await this.#path(ref, ref.name) });
    } catch (error) {
      if (error instanceof ClusterApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labels: Readonly<Record<string, string>>,
  ): Promise<KubeObject[]> {
    const path = await this.#path(
      namespace === undefined ? { apiVersion, kind } : { apiVersion, kind, namespace },
    );
    const labelSelector = Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    const objects: KubeObject[] = [];
    let next: string | undefined;
    do {
      const page: ObjectList = await this.#api.request<ObjectList>({
        method: 'GET',
        path,
        query: { labelSelector, limit: '500', continue: next },
      });
      // List items carry no apiVersion and kind of their own.
      for (const item of page.items) objects.push({ ...item, apiVersion, kind });
      next = page.metadata.continue || undefined;
    } while (next !== undefined);
    return objects;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.#api.request({
        method: 'DELETE',
        path: await this.#path(ref, ref.name),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
      return true;
    } catch (error) {
      if (error instanceof ClusterApiError && error.status === 404) return false;
      throw error;
    }
  }
}

function versionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}
