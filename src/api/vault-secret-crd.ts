// The VaultSecret CustomResourceDefinition as data. scripts/generate.ts writes it to crds/ and
// charts/kvsync/crds/; tests may create it directly from this object.
import { vaultSecretSchema } from './vault-secret-schema.ts';
import { group, kind, plural, version } from './vault-secret.ts';

const readyCondition = '.status.conditions[?(@.type=="Ready")]';

export const vaultSecretCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: {
      kind,
      listKind: `${kind}List`,
      plural,
      singular: 'vaultsecret',
      // Not "vs": Istio's VirtualService took it.
      shortNames: ['vsec'],
      categories: ['kvsync'],
    },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
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
        schema: { openAPIV3Schema: vaultSecretSchema },
      },
    ],
  },
} as const;
