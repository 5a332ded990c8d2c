// Reads and writes of one coordination.k8s.io/v1 Lease. Updates carry the resourceVersion that
// was read, so the API server refuses (409) a write based on a stale read: of two candidates that
// both saw an expired lease, only one can take it.

import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, kubeJson } from './kube-http.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds, as metav1.MicroTime. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaseClient {
  /** The lease, or undefined when it does not exist. */
  get(signal?: AbortSignal): Promise<Lease | undefined>;
  /** Creates the lease; throws KubeApiError 409 when it already exists. */
  create(spec: LeaseSpec, signal?: AbortSignal): Promise<Lease>;
  /** Replaces the lease read earlier; throws KubeApiError 409 when it changed since. */
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

export function kubeLeaseClient(
  kubeConfig: KubeConfig,
  lease: { namespace: string; name: string },
): LeaseClient {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(lease.namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(lease.name)}`;
  return {
    async get(signal) {
      try {
        return await kubeJson<Lease>(kubeConfig, item, { signal });
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    create(spec, signal) {
      return kubeJson<Lease>(kubeConfig, collection, {
        method: 'POST',
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: lease.name, namespace: lease.namespace },
          spec,
        },
        signal,
      });
    },
    update(current, signal) {
      return kubeJson<Lease>(kubeConfig, item, {
        method: 'PUT',
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...current },
        signal,
      });
    },
  };
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 409;
}

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}
