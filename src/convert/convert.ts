// Pure: parsed documents of ESO manifests -> VaultSecret and ClusterVaultSecret manifests, a report
// per ESO object, and the annotations that grant kvsync consent to take the existing Secrets over.
// Stores have no object of their own: their vault and identity go into each object that uses them.
import { ADOPT_BY_ANNOTATION } from '../controllers/vault-secret/adopt.ts';
import { MERGE_FROM_ANNOTATION } from '../controllers/vault-secret/merge-consent.ts';
import type { VaultReference } from '../api/vault-secret.ts';
import {
  type ClusterVaultSecretManifest,
  convertClusterExternalSecret,
} from './cluster-external-secret.ts';
import { convertExternalSecret, type VaultSecretManifest } from './external-secret.ts';
import { type Fields, fieldsOf, Findings, list, text, kubernetesName } from './fields.ts';
import { selectorArgument } from './namespace-selection.ts';
import { type IdentityScope, storeProblems, vaultFor } from './store.ts';

export type Manifest = VaultSecretManifest | ClusterVaultSecretManifest;

/** One YAML document, named for messages ("eso.yaml document 2"). */
export interface SourceDocument {
  readonly source: string;
  readonly value: unknown;
}

export interface ObjectReport {
  /** "ExternalSecret team/app" */
  readonly object: string;
  readonly source: string;
  readonly converted: boolean;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

export interface Conversion {
  readonly manifests: readonly {
    readonly source: string;
    readonly manifest: Manifest;
  }[];
  readonly reports: readonly ObjectReport[];
  /** kubectl commands granting consent, one per converted target Secret. */
  readonly consent: readonly string[];
  /** Documents that are not ESO objects: nothing is converted when there is one. */
  readonly badInput: readonly string[];
}

const ESO_GROUP = 'external-secrets.io';
const GENERATORS_GROUP = 'generators.external-secrets.io';
const SUPPORTED_VERSIONS = new Set(['v1', 'v1beta1']);

interface EsoObject {
  readonly source: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The ClusterExternalSecret that made this ExternalSecret (its controller), if one did. */
  readonly madeBy: string | undefined;
  readonly spec: Fields | undefined;
}

export function convertDocuments(documents: readonly SourceDocument[]): Conversion {
  const objects: EsoObject[] = [];
  const badInput: string[] = [];
  for (const document of expandLists(documents)) {
    const parsed = esoObject(document);
    if (typeof parsed === 'string') badInput.push(`${document.source}: ${parsed}`);
    else objects.push(parsed);
  }
  if (badInput.length > 0) return { manifests: [], reports: [], consent: [], badInput };

  const stores = new Map(
    objects
      .filter(isStore)
      .map((store) => [storeKey(store.kind, store.namespace, store.name), store]),
  );
  const manifests: { source: string; manifest: Manifest }[] = [];
  const reports: ObjectReport[] = [];
  const consent: string[] = [];
  for (const object of objects) {
    const findings = new Findings();
    if (isStore(object)) {
      versionCheck(object, findings);
      const own = storeProblems(object.spec);
      own.problems.forEach((p) => findings.problem(p));
      own.notes.forEach((n) => findings.note(n));
    } else if (object.kind === 'ExternalSecret' && object.madeBy !== undefined) {
      madeByClusterExternalSecret(object.madeBy, objects, findings);
    } else if (object.group === ESO_GROUP && object.kind === 'ExternalSecret') {
      const manifest = externalSecret(object, stores, findings);
      if (manifest && findings.problems.length === 0) {
        manifests.push({ source: object.source, manifest });
        consent.push(consentCommand(manifest));
      }
    } else if (object.group === ESO_GROUP && object.kind === 'ClusterExternalSecret') {
      const manifest = clusterExternalSecret(object, stores, findings);
      if (manifest && findings.problems.length === 0) {
        manifests.push({ source: object.source, manifest });
        consent.push(...clusterConsentCommands(manifest));
      }
    } else {
      findings.problem(unsupportedKind(object));
    }
    reports.push({
      object: `${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`,
      source: object.source,
      converted: findings.problems.length === 0,
      problems: findings.problems,
      notes: findings.notes,
    });
  }
  return { manifests, reports, consent, badInput };
}

function externalSecret(
  object: EsoObject,
  stores: ReadonlyMap<string, EsoObject>,
  findings: Findings,
): VaultSecretManifest | undefined {
  versionCheck(object, findings);
  const vault = storeVault(object.spec, { namespace: object.namespace }, stores, findings);
  if (!vault) return undefined;
  return convertExternalSecret(object.name, object.namespace, object.spec, vault, findings);
}

function clusterExternalSecret(
  object: EsoObject,
  stores: ReadonlyMap<string, EsoObject>,
  findings: Findings,
): ClusterVaultSecretManifest | undefined {
  versionCheck(object, findings);
  const externalSecretSpec = fieldsOf(object.spec?.get('externalSecretSpec'));
  const vault = storeVault(externalSecretSpec, 'cluster', stores, findings);
  if (!vault) return undefined;
  return convertClusterExternalSecret(object.name, object.spec, vault, findings);
}

/** The vault of the store an ExternalSecret spec names, read in a namespace or cluster-wide. */
function storeVault(
  spec: Fields | undefined,
  scope: IdentityScope,
  stores: ReadonlyMap<string, EsoObject>,
  findings: Findings,
): VaultReference | undefined {
  const ref = fieldsOf(spec?.get('secretStoreRef'));
  const storeKind = text(ref, 'kind') ?? 'SecretStore';
  const storeName = text(ref, 'name') ?? '';
  if (scope === 'cluster' && storeKind !== 'ClusterSecretStore') {
    findings.problem(
      `${storeKind} ${storeName}: each selected namespace has its own SecretStore of that name, a ClusterVaultSecret reads one vault with one identity; point the ClusterExternalSecret at a ClusterSecretStore`,
    );
    return undefined;
  }
  const store = stores.get(
    storeKey(storeKind, scope === 'cluster' ? undefined : scope.namespace, storeName),
  );
  if (!store) {
    findings.problem(
      `${storeKind} ${storeName} is not in the input: convert it together with its store`,
    );
    return undefined;
  }
  if (storeProblems(store.spec).problems.length > 0) {
    findings.problem(`${storeKind} ${storeName} cannot be converted (see its report)`);
    return undefined;
  }
  return vaultFor(store.spec, scope, findings);
}

/** One ClusterVaultSecret covers the ExternalSecrets a ClusterExternalSecret made: none of its own. */
function madeByClusterExternalSecret(
  name: string,
  objects: readonly EsoObject[],
  findings: Findings,
): void {
  const parent = objects.some(
    (object) => object.kind === 'ClusterExternalSecret' && object.name === name,
  );
  if (parent) {
    findings.note(
      `made by ClusterExternalSecret ${name}: its ClusterVaultSecret covers this namespace (see its report), so no VaultSecret of its own`,
    );
  } else {
    findings.problem(
      `made by ClusterExternalSecret ${name}, which is not in the input: convert it (kubectl get clusterexternalsecrets -o yaml) to get a ClusterVaultSecret for every namespace it selects`,
    );
  }
}

function consentCommand(manifest: VaultSecretManifest): string {
  return annotateCommand(manifest.spec, manifest.metadata.name, manifest.metadata.namespace);
}

/**
 * One command per namespace listed by name; for a selector, one pipeline that annotates the
 * Secret in each namespace the selector matches now (a namespace that matches later holds no
 * Secret of ESO's to take over).
 */
function clusterConsentCommands(manifest: ClusterVaultSecretManifest): string[] {
  const { namespaces = [], namespaceSelector, template } = manifest.spec;
  const { name } = manifest.metadata;
  const listed = namespaces.map((namespace) => annotateCommand(template, name, namespace));
  if (!namespaceSelector) return listed;
  const selector = selectorArgument(namespaceSelector);
  const label = selector === '' ? '' : ` -l '${selector}'`;
  return [
    ...listed,
    `kubectl get namespaces${label} -o name | cut -d/ -f2 | xargs -I{} ${annotateCommand(template, name, '{}')}`,
  ];
}

/** `kubectl annotate secret <target> [-n <namespace>] <annotation>=<name>` */
function annotateCommand(
  spec: VaultSecretManifest['spec'],
  name: string,
  namespace: string | undefined,
): string {
  const { target } = spec;
  const annotation = target?.adopt ? ADOPT_BY_ANNOTATION : MERGE_FROM_ANNOTATION;
  const where = namespace ? ` -n ${namespace}` : '';
  return `kubectl annotate secret ${target?.name ?? name}${where} ${annotation}=${name}`;
}

function unsupportedKind(object: EsoObject): string {
  if (object.kind === 'PushSecret' || object.kind === 'ClusterPushSecret') {
    return 'kvsync only reads from Key Vault; it does not push Secrets to it';
  }
  if (object.group === GENERATORS_GROUP) return 'generators have no kvsync equivalent';
  return `${object.kind} has no kvsync equivalent`;
}

function versionCheck(object: EsoObject, findings: Findings): void {
  if (SUPPORTED_VERSIONS.has(object.version)) return;
  findings.problem(
    `${object.group}/${object.version} is not converted: export the object from the cluster (kubectl get -o yaml serves v1) and convert that`,
  );
}

function isStore(object: EsoObject): boolean {
  return (
    object.group === ESO_GROUP &&
    (object.kind === 'SecretStore' || object.kind === 'ClusterSecretStore')
  );
}

function storeKey(kind: string, namespace: string | undefined, name: string): string {
  return kind === 'ClusterSecretStore' ? `${kind}/${name}` : `${kind}/${namespace ?? ''}/${name}`;
}

/** kubectl's `kind: List` output holds the objects under items. */
function expandLists(documents: readonly SourceDocument[]): SourceDocument[] {
  return documents.flatMap((document) => {
    const fields = fieldsOf(document.value);
    if (text(fields, 'apiVersion') !== 'v1' || !text(fields, 'kind')?.endsWith('List')) {
      return [document];
    }
    return list(fields, 'items').map((value, index) => ({
      source: `${document.source} item ${index + 1}`,
      value,
    }));
  });
}

/** The ESO object in a document, or why it is not one (never quoting a value). */
function esoObject(document: SourceDocument): EsoObject | string {
  const fields = fieldsOf(document.value);
  const apiVersion = text(fields, 'apiVersion');
  const kind = text(fields, 'kind');
  const metadata = fieldsOf(fields?.get('metadata'));
  const name = text(metadata, 'name') ?? '';
  const namespace = text(metadata, 'namespace');
  if (!apiVersion || !kind) return 'not a Kubernetes object (no apiVersion and kind)';
  const [group = '', version = ''] = apiVersion.includes('/')
    ? apiVersion.split('/')
    : ['', apiVersion];
  const label = `${apiVersion} ${kind}${name ? ` ${name}` : ''}`;
  if (group !== ESO_GROUP && group !== GENERATORS_GROUP) {
    return `${label} is not an External Secrets Operator object`;
  }
  if (!kubernetesName.test(name) || (namespace !== undefined && !kubernetesName.test(namespace))) {
    return `${label}: metadata.name and metadata.namespace must be Kubernetes names`;
  }
  return {
    source: document.source,
    group,
    version,
    kind,
    name,
    namespace,
    madeBy: controllerOf(list(metadata, 'ownerReferences'), 'ClusterExternalSecret'),
    spec: fieldsOf(fields?.get('spec')),
  };
}

/** The name of the controller owner of kind `kind` in ESO's group, if there is one. */
function controllerOf(references: unknown[], kind: string): string | undefined {
  const controller = references
    .map(fieldsOf)
    .find((ref) => ref?.get('controller') === true && text(ref, 'kind') === kind);
  const group = text(controller, 'apiVersion')?.split('/')[0];
  return group === ESO_GROUP ? text(controller, 'name') : undefined;
}
