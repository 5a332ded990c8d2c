// Pure: one ESO ClusterExternalSecret (external-secrets.io v1beta1 or v1) -> one ClusterVaultSecret.
// Its externalSecretSpec goes through the ExternalSecret conversion and becomes the template;
// what differs is naming (kvsync names each VaultSecret like the ClusterVaultSecret, so the Secret
// keeps its name through target.name) and namespace selection.
import { clusterKind, type ClusterVaultSecretSpec } from '../api/cluster-vault-secret.ts';
import { apiVersion, type VaultReference } from '../api/vault-secret.ts';
import { convertExternalSecret } from './external-secret.ts';
import { type Fields, fieldsOf, type Findings, kubernetesName, text } from './fields.ts';
import { selectionOf } from './namespace-selection.ts';

export interface ClusterVaultSecretManifest {
  apiVersion: typeof apiVersion;
  kind: typeof clusterKind;
  metadata: { name: string };
  spec: ClusterVaultSecretSpec;
}

const specFields = [
  'externalSecretSpec',
  'externalSecretName',
  'externalSecretMetadata',
  'namespaceSelector',
  'namespaceSelectors',
  'namespaces',
  'refreshTime',
];

export function convertClusterExternalSecret(
  name: string,
  spec: Fields | undefined,
  vault: VaultReference,
  findings: Findings,
): ClusterVaultSecretManifest {
  findings.unknownFields(spec, 'spec.', specFields);
  const selection = selectionOf(spec, findings);
  const externalSecretName = text(spec, 'externalSecretName') ?? name;
  if (!kubernetesName.test(externalSecretName)) {
    findings.problem(`externalSecretName "${externalSecretName}" is not a Kubernetes name`);
  }
  const externalSecretSpec = fieldsOf(spec?.get('externalSecretSpec'));
  // ESO's ExternalSecret in each namespace is named externalSecretName, and its Secret defaults
  // to that name: converting under that name keeps the Secret's name in target.name.
  const template = convertExternalSecret(
    externalSecretName,
    undefined,
    externalSecretSpec,
    vault,
    findings,
  ).spec;
  if (externalSecretName !== name) {
    findings.note(
      `externalSecretName ${externalSecretName}: kvsync names each VaultSecret like the ClusterVaultSecret (${name}); the Secret keeps its name ${template.target?.name ?? externalSecretName} through target.name`,
    );
  }
  if (spec?.has('externalSecretMetadata')) {
    findings.note(
      "externalSecretMetadata: the labels and annotations ESO put on each ExternalSecret are not put on kvsync's VaultSecrets",
    );
  }
  if (spec?.has('refreshTime')) {
    findings.note(
      'refreshTime: kvsync watches namespaces, so a namespace that comes to match gets its VaultSecret without waiting for a re-scan',
    );
  }
  return {
    apiVersion,
    kind: clusterKind,
    metadata: { name },
    spec: { ...selection, template },
  };
}
