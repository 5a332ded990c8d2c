// The one source of truth for the ClusterVaultSecret API. Its template is the VaultSecret spec
// schema itself (not a copy), so a template is validated exactly as the VaultSecrets made from it;
// scripts/generate.ts derives the types, the CRD YAML and the API reference from this file.
import { resourceSchema, type OpenApiSchema } from './openapi-schema.ts';
import {
  commonStatusProperties,
  schemaTypeNames,
  vaultSecretSpecSchema,
} from './vault-secret-schema.ts';

function named(name: string, schema: OpenApiSchema): OpenApiSchema {
  schemaTypeNames.set(schema, name);
  return schema;
}

/** How many failing namespaces status lists; the counts cover all of them. */
export const maxListedFailures = 5;

const labelValue: OpenApiSchema = { type: 'string', maxLength: 63 };
const labelKey: OpenApiSchema = { type: 'string', maxLength: 317 };

// metav1.LabelSelector, as controller-gen renders it.
const labelSelector = named('LabelSelector', {
  type: 'object',
  description:
    'Namespaces whose labels match (matchLabels and matchExpressions, as in a Deployment selector). An empty selector selects every namespace.',
  properties: {
    matchLabels: {
      type: 'object',
      maxProperties: 64,
      additionalProperties: labelValue,
    },
    matchExpressions: {
      type: 'array',
      maxItems: 32,
      'x-kubernetes-list-type': 'atomic',
      items: named('LabelSelectorRequirement', {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: labelKey,
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: {
            type: 'array',
            maxItems: 64,
            items: labelValue,
            'x-kubernetes-list-type': 'atomic',
          },
        },
        'x-kubernetes-validations': [
          {
            rule: "(self.operator in ['In', 'NotIn']) == (has(self.values) && self.values.size() > 0)",
            message: 'In and NotIn need values; Exists and DoesNotExist take none',
          },
        ],
      }),
    },
  },
  'x-kubernetes-map-type': 'atomic',
});

export const clusterVaultSecretSpecSchema = named('ClusterVaultSecretSpec', {
  type: 'object',
  description:
    'Which namespaces get a VaultSecret, and the VaultSecret spec they get. kvsync keeps one VaultSecret (named like this ClusterVaultSecret, owned by it) in every selected namespace.',
  required: ['template'],
  properties: {
    namespaceSelector: labelSelector,
    namespaces: {
      type: 'array',
      maxItems: 1024,
      description:
        'Namespaces selected by name, in addition to those the namespaceSelector matches.',
      items: { type: 'string', minLength: 1, maxLength: 63 },
      'x-kubernetes-list-type': 'set',
    },
    template: vaultSecretSpecSchema,
  },
  'x-kubernetes-validations': [
    {
      rule: 'has(self.namespaceSelector) || (has(self.namespaces) && self.namespaces.size() > 0)',
      message: 'select namespaces: set namespaceSelector, namespaces or both',
      reason: 'FieldValueRequired',
    },
    {
      // A ServiceAccount of the target namespace would let whoever controls that namespace decide
      // what a cluster-wide definition reads; only the platform team's identities are allowed.
      rule: '!has(self.template.vault.identity) || !has(self.template.vault.identity.serviceAccountName)',
      message:
        "a ClusterVaultSecret reads with kvsync's own identity or a clientSecretRef in kvsync's namespace, never a ServiceAccount of the target namespace",
      fieldPath: '.template.vault.identity.serviceAccountName',
      reason: 'FieldValueForbidden',
    },
  ],
});

const namespaceFailure = named('NamespaceFailure', {
  type: 'object',
  description: 'A selected namespace whose VaultSecret is not synced, and why.',
  required: ['namespace', 'reason'],
  properties: {
    namespace: { type: 'string', maxLength: 63 },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 1024 },
  },
});

export const clusterVaultSecretStatusSchema = named('ClusterVaultSecretStatus', {
  type: 'object',
  description: 'Written by kvsync only.',
  properties: {
    ...commonStatusProperties,
    selectedNamespaces: {
      type: 'integer',
      minimum: 0,
      description: 'Namespaces the ClusterVaultSecret selects.',
    },
    syncedNamespaces: {
      type: 'integer',
      minimum: 0,
      description: 'Selected namespaces whose VaultSecret is Ready for its current spec.',
    },
    failedNamespaces: {
      type: 'integer',
      minimum: 0,
      description:
        'Selected namespaces whose VaultSecret failed, or that hold a VaultSecret of that name not owned by this ClusterVaultSecret.',
    },
    failures: {
      type: 'array',
      maxItems: maxListedFailures,
      description: `The first ${maxListedFailures} failing namespaces (by name) and why.`,
      items: namespaceFailure,
    },
  },
});

export const clusterVaultSecretSchema = resourceSchema(
  'Keeps one VaultSecret in each selected namespace, so a secret shared by many namespaces is defined once and read from Key Vault once.',
  clusterVaultSecretSpecSchema,
  clusterVaultSecretStatusSchema,
);
