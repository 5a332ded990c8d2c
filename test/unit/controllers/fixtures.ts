// Small builders for the pure reconciler parts' tests.
import type { VaultSecret, VaultSecretSpec } from '../../../src/api/vault-secret.ts';
import type { SecretValue } from '../../../src/keyvault/types.ts';

export function vaultSecret(spec: Partial<VaultSecretSpec> = {}, name = 'app'): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name, namespace: 'team', uid: 'uid-1', generation: 3 },
    spec: { vault: { url: 'https://kv.vault.azure.net/' }, ...spec },
  };
}

export function secretValue(
  name: string,
  value: string,
  version = 'a'.repeat(32),
  extra: Partial<SecretValue['properties']> = {},
): SecretValue {
  return {
    value,
    properties: {
      name,
      version,
      enabled: true,
      updatedOn: new Date('2026-11-01T00:00:00Z'),
      expiresOn: undefined,
      notBefore: undefined,
      contentType: undefined,
      tags: {},
      managed: false,
      ...extra,
    },
  };
}
