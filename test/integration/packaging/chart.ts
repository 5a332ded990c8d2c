// Helpers around charts/kvsync for tests: render it, apply its ServiceAccount and RBAC for real,
// and get a KubeConfig that authenticates as that ServiceAccount — exactly the chart's permissions.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { ControlPlaneInfo } from '../../support/control-plane.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  serviceAccountToken,
  waitFor,
} from '../../support/kube.ts';

export const chartDir = fileURLToPath(new URL('../../../charts/kvsync', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** The test control plane's version; helm template's built-in default is older than the chart allows. */
export const KUBE_VERSION = '1.34.0';

type Info = Pick<ControlPlaneInfo, 'binDir' | 'kubeconfigPath' | 'server' | 'caFile' | 'issuer'>;

/** The chart's ValidatingAdmissionPolicies (and their bindings), by suffix of the release name. */
export const admissionPolicies = ['token-requests', 'secrets', 'vaultsecrets'] as const;

export interface RenderOptions {
  release: string;
  namespace: string;
  values?: Record<string, unknown>;
  /** e.g. ['--show-only', 'templates/rbac.yaml'] */
  extraArgs?: readonly string[];
}

/** `helm template` of the chart; resolves with the manifest text. */
export async function helmTemplate(info: Info, options: RenderOptions): Promise<string> {
  return withValuesFile(options.values, (valuesArgs) =>
    runTool(info, 'helm', [
      'template',
      options.release,
      chartDir,
      '--namespace',
      options.namespace,
      '--kube-version',
      KUBE_VERSION,
      ...valuesArgs,
      ...(options.extraArgs ?? []),
    ]),
  );
}

/** Runs `fn` with `['--values', file]` for `values` (or `[]`), removing the file afterwards. */
export async function withValuesFile<T>(
  values: Record<string, unknown> | undefined,
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  if (!values) return fn([]);
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-values-'));
  try {
    const file = path.join(dir, 'values.yaml');
    await writeFile(file, stringify(values));
    return await fn(['--values', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `kubectl <verb> -f -` for manifest text, through a temporary file. */
export async function kubectlWithManifest(
  info: Info,
  args: readonly string[],
  manifest: string,
): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-manifest-'));
  try {
    const file = path.join(dir, 'manifest.yaml');
    await writeFile(file, manifest);
    return await runTool(info, 'kubectl', [...args, '-f', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ChartRbac {
  release: string;
  /** Where the ServiceAccount, the leader-election Role and (with watchNamespaces) Roles live. */
  namespace: string;
  serviceAccountName: string;
  /** The ClusterRole (and binding) name, or undefined with watchNamespaces. */
  clusterRoleName: string | undefined;
  leaseName: string;
  /** Deletes the cluster-scoped objects (ClusterRole, admission policies); the namespaced ones
   * go with their namespace. */
  remove(): Promise<void>;
}

/**
 * Renders the chart's ServiceAccount, RBAC and admission policy templates (default values plus
 * `values`) into `namespace` under a unique release name and applies them for real.
 */
export async function applyChartRbac(
  info: Info,
  namespace: string,
  values?: Record<string, unknown>,
): Promise<ChartRbac> {
  // Contains "kvsync", so the chart uses the release name as is for every object.
  const release = `kvsync-${randomBytes(3).toString('hex')}`;
  const policies =
    (values?.admissionPolicies as { enabled?: boolean } | undefined)?.enabled ?? true;
  const manifest = await helmTemplate(info, {
    release,
    namespace,
    values,
    extraArgs: [
      '--show-only',
      'templates/serviceaccount.yaml',
      '--show-only',
      'templates/rbac.yaml',
      ...(policies ? ['--show-only', 'templates/admission-policies.yaml'] : []),
      '--show-only',
      'templates/rbac-cluster-vault-secrets.yaml',
    ],
  });
  await kubectlWithManifest(info, ['apply'], manifest);
  const clusterScoped = !(values?.watchNamespaces as string[] | undefined)?.length;
  const policyObjects = policies
    ? admissionPolicies.flatMap((policy) => [
        `validatingadmissionpolicybinding/${release}-${policy}`,
        `validatingadmissionpolicy/${release}-${policy}`,
      ])
    : [];
  return {
    release,
    namespace,
    serviceAccountName: release,
    clusterRoleName: clusterScoped ? release : undefined,
    leaseName: release,
    remove: async () => {
      const roles = clusterScoped
        ? [`clusterrolebinding/${release}`, `clusterrole/${release}`]
        : [];
      // The ClusterVaultSecret reads are cluster-wide with or without watchNamespaces.
      const clusterReads = [
        `clusterrolebinding/${release}-cluster-vault-secrets`,
        `clusterrole/${release}-cluster-vault-secrets`,
      ];
      await runTool(info, 'kubectl', [
        'delete',
        '--ignore-not-found',
        ...roles,
        ...clusterReads,
        ...policyObjects,
      ]);
    },
  };
}

/**
 * A client-node KubeConfig that authenticates as the chart's ServiceAccount with a TokenRequest
 * token (the API server's default audience), the CA embedded so it can also be written to a file
 * for a container (`kc.exportConfig()`).
 */
export async function chartServiceAccountKubeConfig(
  info: Info,
  rbac: Pick<ChartRbac, 'namespace' | 'serviceAccountName'>,
  expirationSeconds = 3600,
): Promise<KubeConfig> {
  const token = await serviceAccountToken(
    kubeConfigFrom(info),
    rbac.namespace,
    rbac.serviceAccountName,
    info.issuer,
    expirationSeconds,
  );
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'kvsync-test',
        server: info.server,
        caData: Buffer.from(await readFile(info.caFile)).toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: rbac.serviceAccountName, token }],
    contexts: [
      {
        name: 'kvsync-test',
        cluster: 'kvsync-test',
        user: rbac.serviceAccountName,
        namespace: rbac.namespace,
      },
    ],
    currentContext: 'kvsync-test',
  });
  return kc;
}

/**
 * Waits until the chart's admission policies refuse `kc` (kvsync's ServiceAccount): the API server
 * loads policies through an informer, so they take effect a moment after they are created. Probes
 * with a dry-run create of a service-account-token Secret in `namespace`, which RBAC allows there.
 */
export async function waitForAdmissionPolicies(kc: KubeConfig, namespace: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      try {
        await core.createNamespacedSecret({
          namespace,
          dryRun: 'All',
          body: {
            metadata: {
              name: 'kvsync-policy-probe',
              annotations: { 'kubernetes.io/service-account.name': 'default' },
            },
            type: 'kubernetes.io/service-account-token',
          },
        });
        return false;
      } catch (error) {
        if ((error as { code?: number }).code !== 403) throw error;
        return String((error as { body?: unknown }).body).includes('admission policy');
      }
    },
    { description: "the chart's admission policies to be in effect" },
  );
}

export interface ChartIdentity {
  /** Authenticates as the chart's ServiceAccount: its RBAC, fenced by its admission policies. */
  readonly kc: KubeConfig;
  readonly rbac: ChartRbac;
  /** kvsync's own namespace (the release namespace). */
  readonly namespace: string;
  remove(): Promise<void>;
}

/**
 * kvsync's user as the chart installs it by default, in a namespace of its own (`prefix`): the
 * ServiceAccount, RBAC and admission policies applied for real, the policies in effect.
 */
export async function chartIdentity(info: Info, prefix: string): Promise<ChartIdentity> {
  const admin = kubeConfigFrom(info);
  const namespace = await createTestNamespace(admin, prefix);
  const rbac = await applyChartRbac(info, namespace);
  const kc = await chartServiceAccountKubeConfig(info, rbac);
  await waitForAdmissionPolicies(kc, namespace);
  return {
    kc,
    rbac,
    namespace,
    async remove() {
      await rbac.remove();
      await deleteTestNamespace(admin, namespace);
    },
  };
}
