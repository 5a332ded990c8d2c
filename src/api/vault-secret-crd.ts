// The VaultSecret CustomResourceDefinition as data.
import { kvsyncCrd, readyCondition } from './crd.ts';
import { vaultSecretSchema } from './vault-secret-schema.ts';
import { kind, plural } from './vault-secret.ts';

export const vaultSecretCrd = kvsyncCrd({
  kind,
  plural,
  scope: 'Namespaced',
  // Not "vs": Istio's VirtualService took it.
  shortNames: ['vsec'],
  printerColumns: [
    { name: 'Secret', type: 'string', jsonPath: '.status.secretName' },
    { name: 'Ready', type: 'string', jsonPath: `${readyCondition}.status` },
    { name: 'Reason', type: 'string', jsonPath: `${readyCondition}.reason` },
    // A string, not a date: kubectl renders future dates as "<invalid>".
    { name: 'Expires', type: 'string', jsonPath: '.status.expiresOn' },
    { name: 'Last Checked', type: 'date', jsonPath: '.status.lastRefreshTime' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Vault', type: 'string', jsonPath: '.spec.vault.url', priority: 1 },
    { name: 'Message', type: 'string', jsonPath: `${readyCondition}.message`, priority: 1 },
  ],
  schema: vaultSecretSchema,
});
