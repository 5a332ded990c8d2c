import type { VaultIdentity, VaultSecret } from '../../../src/api/vault-secret.ts';

export function vaultSecret(
  namespace: string,
  identity?: VaultIdentity,
  name = 'app',
): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name, namespace },
    spec: {
      vault: { url: 'https://payments.vault.azure.net/', ...(identity ? { identity } : {}) },
    },
  };
}
