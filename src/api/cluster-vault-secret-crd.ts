// The ClusterVaultSecret CustomResourceDefinition as data. scripts/generate.ts writes it to crds/
// and charts/kvsync/crds/; tests may create it directly from this object.
import { clusterVaultSecretSchema } from './cluster-vault-secret-schema.ts';
import { clusterKind, clusterPlural } from './cluster-vault-secret.ts';
import { group, version } from './vault-secret.ts';

const readyCondition = '.status.conditions[?(@.type=="Ready")]';

export const clusterVaultSecretCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${clusterPlural}.${group}` },
  spec: {
    group,
    scope: 'Cluster',
    names: {
      kind: clusterKind,
      listKind: `${clusterKind}List`,
      plural: clusterPlural,
      singular: 'clustervaultsecret',
      shortNames: ['cvsec'],
      categories: ['kvsync'],
    },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Selected', type: 'integer', jsonPath: '.status.selectedNamespaces' },
          { name: 'Synced', type: 'integer', jsonPath: '.status.syncedNamespaces' },
          { name: 'Failed', type: 'integer', jsonPath: '.status.failedNamespaces' },
          { name: 'Ready', type: 'string', jsonPath: `${readyCondition}.status` },
          { name: 'Reason', type: 'string', jsonPath: `${readyCondition}.reason` },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          { name: 'Vault', type: 'string', jsonPath: '.spec.template.vault.url', priority: 1 },
          { name: 'Message', type: 'string', jsonPath: `${readyCondition}.message`, priority: 1 },
        ],
        schema: { openAPIV3Schema: clusterVaultSecretSchema },
      },
    ],
  },
} as const;
