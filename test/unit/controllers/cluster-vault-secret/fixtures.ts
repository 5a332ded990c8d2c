// Builders for the ClusterVaultSecret controller's pure parts.
import type {
  ClusterVaultSecret,
  ClusterVaultSecretSpec,
} from '../../../../src/api/cluster-vault-secret.ts';
import { clusterOwnerReference } from '../../../../src/api/cluster-vault-secret.ts';
import type { VaultSecret } from '../../../../src/api/vault-secret.ts';
import { desiredVaultSecret } from '../../../../src/controllers/cluster-vault-secret/plan.ts';

export const template: ClusterVaultSecretSpec['template'] = {
  vault: { url: 'https://shared.vault.azure.net/' },
  data: [{ key: 'token', secret: { name: 'telemetry-key' } }],
};

export function cluster(spec: Partial<ClusterVaultSecretSpec> = {}): ClusterVaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'ClusterVaultSecret',
    metadata: { name: 'telemetry', uid: 'cvs-uid', generation: 2 },
    spec: { namespaceSelector: { matchLabels: { shared: 'yes' } }, template, ...spec },
  };
}

/** The VaultSecret the controller would keep in `namespace`, as the API server stores it. */
export function keptCopy(
  owner: ClusterVaultSecret,
  namespace: string,
  status?: VaultSecret['status'],
): VaultSecret {
  const desired = desiredVaultSecret(owner, namespace);
  return {
    ...desired,
    metadata: { ...desired.metadata, uid: `vs-${namespace}`, generation: 1 },
    ...(status ? { status } : {}),
  };
}

/** A VaultSecret of the same name someone else created. */
export function foreignCopy(owner: ClusterVaultSecret, namespace: string): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: owner.metadata.name, namespace, uid: `foreign-${namespace}` },
    spec: template,
  };
}

export function readyStatus(
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  extra: { stalled?: boolean; generation?: number } = {},
): NonNullable<VaultSecret['status']> {
  const at = '2026-12-01T00:00:00Z';
  return {
    observedGeneration: extra.generation ?? 1,
    conditions: [
      { type: 'Ready', status, reason, message: `${reason} message`, lastTransitionTime: at },
      ...(extra.stalled
        ? [
            {
              type: 'Stalled',
              status: 'True' as const,
              reason,
              message: '',
              lastTransitionTime: at,
            },
          ]
        : []),
    ],
  };
}

export { clusterOwnerReference };
