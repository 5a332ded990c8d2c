// The ClusterVaultSecret CustomResourceDefinition as data.
import { clusterVaultSecretSchema } from './cluster-vault-secret-schema.ts';
import { clusterKind, clusterPlural } from './cluster-vault-secret.ts';
import { kvsyncCrd, readyCondition } from './crd.ts';

export const clusterVaultSecretCrd = kvsyncCrd({
  kind: clusterKind,
  plural: clusterPlural,
  scope: 'Cluster',
  shortNames: ['cvsec'],
  printerColumns: [
    { name: 'Selected', type: 'integer', jsonPath: '.status.selectedNamespaces' },
    { name: 'Synced', type: 'integer', jsonPath: '.status.syncedNamespaces' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.failedNamespaces' },
    { name: 'Ready', type: 'string', jsonPath: `${readyCondition}.status` },
    { name: 'Reason', type: 'string', jsonPath: `${readyCondition}.reason` },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Vault', type: 'string', jsonPath: '.spec.template.vault.url', priority: 1 },
    { name: 'Message', type: 'string', jsonPath: `${readyCondition}.message`, priority: 1 },
  ],
  schema: clusterVaultSecretSchema,
});
