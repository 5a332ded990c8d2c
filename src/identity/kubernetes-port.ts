// The three Kubernetes calls identity resolution needs, behind a port so the caching and error
// logic is tested without an API server. The real implementation shares kvsync's one connection
// pool per KubeConfig (kube-http.ts): resolution reads the ServiceAccount on every reconcile.
import type {
  AuthenticationV1TokenRequest,
  KubeConfig,
  V1Secret,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import { statusCodeOf } from '../kube/api-errors.ts';
import { IdentityError } from './types.ts';

export interface ServiceAccountInfo {
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ServiceAccountToken {
  /** A JWT; never logged. */
  readonly token: string;
  readonly expiresAt: Date;
}

export interface TokenRequestSpec {
  readonly audience: string;
  readonly expirationSeconds: number;
}

/** `signal` aborts the request: nothing is sent once it is aborted. */
export interface KubernetesPort {
  /** Undefined when the ServiceAccount does not exist. */
  getServiceAccount(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<ServiceAccountInfo | undefined>;
  /** A TokenRequest; throws IdentityError when the ServiceAccount does not exist. */
  createToken(
    namespace: string,
    name: string,
    spec: TokenRequestSpec,
    signal?: AbortSignal,
  ): Promise<ServiceAccountToken>;
  /** The Secret's data decoded as UTF-8; undefined when the Secret does not exist. */
  getSecret(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<Readonly<Record<string, string>> | undefined>;
}

export function kubeIdentityPort(kubeConfig: KubeConfig): KubernetesPort {
  const path = (plural: string, namespace: string, name: string) =>
    `${collectionPath({ apiVersion: 'v1', plural }, namespace)}/${encodeURIComponent(name)}`;
  return {
    async getServiceAccount(namespace, name, signal) {
      const account = await orUndefined(
        kubeJson<V1ServiceAccount>(kubeConfig, path('serviceaccounts', namespace, name), {
          signal,
        }),
        `read ServiceAccount ${name}`,
        namespace,
      );
      return account && { annotations: { ...account.metadata?.annotations } };
    },

    async createToken(namespace, name, spec, signal) {
      const response = await orUndefined(
        kubeJson<AuthenticationV1TokenRequest>(
          kubeConfig,
          `${path('serviceaccounts', namespace, name)}/token`,
          {
            method: 'POST',
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenRequest',
              spec: { audiences: [spec.audience], expirationSeconds: spec.expirationSeconds },
            },
            signal,
          },
        ),
        `request a token for ServiceAccount ${name} (serviceaccounts/token create)`,
        namespace,
      );
      if (!response) throw serviceAccountNotFound(namespace, name);
      const token = response.status?.token;
      if (!token)
        throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
      const expiresAt = response.status?.expirationTimestamp;
      return {
        token,
        expiresAt: expiresAt
          ? new Date(expiresAt)
          : new Date(Date.now() + spec.expirationSeconds * 1000),
      };
    },

    async getSecret(namespace, name, signal) {
      const secret = await orUndefined(
        kubeJson<V1Secret>(kubeConfig, path('secrets', namespace, name), { signal }),
        `read Secret ${name}`,
        namespace,
      );
      if (!secret) return undefined;
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      );
    },
  };
}

export function serviceAccountNotFound(namespace: string, name: string): IdentityError {
  return new IdentityError(
    'IdentityError',
    `ServiceAccount ${name} not found in namespace ${namespace}: create it, or change spec.vault.identity.serviceAccountName`,
  );
}

/** 404 is an answer (undefined); 403 is kvsync's RBAC, which the user's status should name. */
async function orUndefined<T>(
  call: Promise<T>,
  action: string,
  namespace: string,
): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    const status = statusCodeOf(error);
    if (status === 404) return undefined;
    if (status === 403) {
      throw new IdentityError(
        'IdentityError',
        `kvsync is not allowed to ${action} in namespace ${namespace}; check kvsync's RBAC`,
      );
    }
    throw error;
  }
}
