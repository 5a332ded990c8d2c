// The Helm chart and the kustomize base against a real API server: what users run (helm lint,
// helm template | kubectl apply, helm install, kubectl apply -f crds/, kubectl apply -k deploy/) is
// accepted, the schema refuses bad values, the pod passes the "restricted" Pod Security Standard,
// and deploy/ is exactly what the chart renders.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { deployDrift } from '../../../scripts/generate-deploy.ts';
import { toolPath } from '../../support/control-plane.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  waitFor,
} from '../../support/kube.ts';
import {
  admissionPolicies,
  chartDir,
  helmTemplate,
  kubectlWithManifest,
  repoRoot,
  withValuesFile,
} from './chart.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const core = kc.makeApiClient(CoreV1Api);
const kubectl = (...args: string[]) => runTool(info, 'kubectl', args);
const helm = (...args: string[]) => runTool(info, 'helm', args);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function documents(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

// Stand-ins for the Prometheus Operator's CRDs, so ServiceMonitor and PrometheusRule can be sent to
// the API server; they check apiVersion, kind and metadata, not the Prometheus Operator's schema.
const monitoringCrds = ['servicemonitors', 'prometheusrules'].map((plural) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: {
      plural,
      kind: plural === 'servicemonitors' ? 'ServiceMonitor' : 'PrometheusRule',
    },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    ],
  },
}));

let namespace: string;
let watched: string;

beforeAll(async () => {
  await kubectl(
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=kvsync-test',
    '-f',
    path.join(repoRoot, 'crds'),
  );
  await kubectlWithManifest(
    info,
    ['apply', '--server-side', '--field-manager=kvsync-test'],
    monitoringCrds.map((crd) => JSON.stringify(crd)).join('\n---\n'),
  );
  await kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/vaultsecrets.kvsync.io',
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/prometheusrules.monitoring.coreos.com',
  );
  namespace = await createTestNamespace(kc, 'chart');
  watched = await createTestNamespace(kc, 'chart-watched');
});

afterAll(async () => {
  for (const ns of [namespace, watched]) if (ns !== undefined) await deleteTestNamespace(kc, ns);
});

/** Values that switch on everything the defaults leave off, and change the rest. */
const nonDefaultValues = () => ({
  image: {
    repository: 'registry.example.com/platform/kvsync',
    digest: `sha256:${'ab'.repeat(32)}`,
  },
  replicaCount: 3,
  azure: {
    workloadIdentity: {
      clientId: '00000000-0000-0000-0000-0000000000c1',
      tenantId: '00000000-0000-0000-0000-0000000000a1',
    },
  },
  serviceAccount: { annotations: { 'example.com/owner': 'platform' } },
  watchNamespaces: [watched],
  config: {
    workers: 8,
    defaultRefreshInterval: '30m',
    vaultRequestsPer10s: 1000,
    valueCacheSize: '256Mi',
    expiryWindow: '360h',
    defaultIdentityNamespaces: [watched],
    vaultSuffixes: ['.vault.example.internal'],
    logLevel: 'debug',
    logFormat: 'text',
    shutdownTimeout: '20s',
  },
  extraArgs: ['--log-level=trace'],
  extraEnv: [
    { name: 'HTTPS_PROXY', value: 'http://proxy.example.internal:3128' },
    { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/kvsync/ca/ca.crt' },
  ],
  // The documented use: a CA bundle for NODE_EXTRA_CA_CERTS.
  extraVolumes: [{ name: 'corporate-ca', configMap: { name: 'corporate-ca' } }],
  extraVolumeMounts: [{ name: 'corporate-ca', mountPath: '/etc/kvsync/ca', readOnly: true }],
  podSecurityContext: { runAsUser: 10001, fsGroupChangePolicy: 'OnRootMismatch' },
  securityContext: { runAsUser: 10001 },
  priorityClassName: 'platform-critical',
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'kvsync' } },
    },
  ],
  crds: { install: false },
  rbac: { aggregateToView: false, aggregateToEdit: false },
  grafanaDashboard: { enabled: true },
  perNamespaceIdentity: { enabled: false },
  rolloutRestart: { enabled: true, minInterval: '5m' },
  events: {
    queueUrl: 'https://kvevents.queue.core.windows.net/key-vault-events',
    sweepInterval: '1h',
  },
  podDisruptionBudget: { maxUnavailable: '50%' },
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    prometheusRule: { enabled: true, expiryWarningDays: 14 },
  },
  networkPolicy: {
    enabled: true,
    apiServerCIDRs: ['10.0.0.1/32'],
    metricsFrom: [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }],
  },
});

describe('helm lint and values.schema.json', () => {
  it('lints cleanly with default and non-default values', async () => {
    await helm('lint', '--strict', chartDir);
    await withValuesFile(nonDefaultValues(), (args) => helm('lint', '--strict', chartDir, ...args));
  });

  it.each([
    ['an unknown key', ['--set', 'replicas=2'], "additional properties 'replicas' not allowed"],
    ['a misspelt nested key', ['--set', 'config.worker=2'], "additional properties 'worker'"],
    ['workers out of range', ['--set', 'config.workers=100'], 'maximum'],
    ['a bad duration', ['--set', 'config.defaultRefreshInterval=1 hour'], 'defaultRefreshInterval'],
    [
      'a client id that is not a GUID',
      ['--set', 'azure.workloadIdentity.clientId=abc'],
      'clientId',
    ],
    ['a cache size without a unit', ['--set', 'config.valueCacheSize=64M'], 'valueCacheSize'],
    ['an unknown log level', ['--set', 'config.logLevel=verbose'], 'logLevel'],
    ['an unknown log format', ['--set', 'config.logFormat=pretty'], 'logFormat'],
    [
      'a misspelt securityContext field',
      ['--set', 'podSecurityContext.runAsUsr=1000'],
      "additional properties 'runAsUsr' not allowed",
    ],
    ['a volume mount without a path', ['--set', 'extraVolumeMounts[0].name=ca'], 'mountPath'],
  ])('refuses %s', async (_what, args, message) => {
    // helm lint prints the reason on stdout only; helm template and helm install fail with it.
    const render = helmTemplate(info, { release: 'kvsync', namespace: 'default', extraArgs: args });
    await expect(render).rejects.toThrow("values don't meet the specifications of the schema");
    await expect(render).rejects.toThrow(message);
  });
});

describe('helm template applied with server-side dry run', () => {
  it('default values: every object is accepted', async () => {
    const manifest = await helmTemplate(info, { release: 'kvsync', namespace });
    const kinds = documents(manifest).map((d) => d.kind);
    expect(kinds.sort()).toEqual([
      'ClusterRole',
      'ClusterRole', // VaultSecrets in the default edit and admin roles
      'ClusterRole', // ... and in the default view role
      'ClusterRole', // ClusterVaultSecret and Namespace reads
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
    ]);
    const out = await kubectlWithManifest(info, ['apply', '--dry-run=server'], manifest);
    expect(out).toContain('deployment.apps/kvsync created (server dry run)');
    // The API server compiled the policies' CEL.
    expect(out).toContain(
      'validatingadmissionpolicy.admissionregistration.k8s.io/kvsync-secrets created (server dry run)',
    );
    // Secure by default: kvsync's own identity serves its own namespace only.
    const deployment = documents(manifest).find((d) => d.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: ContainerSpec[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]!.args).toContain(
      `--default-identity-namespaces=${namespace}`,
    );
  });

  it('non-default values: every object is accepted, including the optional ones', async () => {
    const manifest = await helmTemplate(info, {
      release: 'kvsync',
      namespace,
      values: nonDefaultValues(),
    });
    const docs = documents(manifest);
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}`).sort()).toEqual(
      [
        'ClusterRole ', // ClusterVaultSecret and Namespace reads, also with watchNamespaces
        'ClusterRoleBinding ',
        `ConfigMap ${namespace}`, // the Grafana dashboard
        `Deployment ${namespace}`,
        `NetworkPolicy ${namespace}`,
        `PodDisruptionBudget ${namespace}`,
        `PrometheusRule ${namespace}`,
        `Role ${namespace}`, // leader election
        `Role ${namespace}`, // the rollout-restart key Secret
        `Role ${namespace}`, // events on kvsync's own Pod (event source down / up)
        `Role ${namespace}`, // ClusterVaultSecret credentials (clientSecretRef) in the unwatched namespace
        `Role ${watched}`, // watchNamespaces: no ClusterRole
        `RoleBinding ${namespace}`,
        `RoleBinding ${namespace}`,
        `RoleBinding ${namespace}`,
        `RoleBinding ${namespace}`,
        `RoleBinding ${watched}`,
        `Service ${namespace}`,
        `ServiceAccount ${namespace}`,
        `ServiceMonitor ${namespace}`,
        'ValidatingAdmissionPolicy ',
        'ValidatingAdmissionPolicy ',
        'ValidatingAdmissionPolicy ',
        'ValidatingAdmissionPolicyBinding ',
        'ValidatingAdmissionPolicyBinding ',
        'ValidatingAdmissionPolicyBinding ',
      ].sort(),
    );
    const out = await kubectlWithManifest(info, ['apply', '--dry-run=server'], manifest);
    expect(out).toContain('networkpolicy.networking.k8s.io/kvsync created (server dry run)');
    expect(out).toContain('prometheusrule.monitoring.coreos.com/kvsync created (server dry run)');

    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: PodSpec } };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(deployment.spec.replicas).toBe(3);
    expect(pod.priorityClassName).toBe('platform-critical');
    expect(pod.topologySpreadConstraints).toEqual(nonDefaultValues().topologySpreadConstraints);
    expect(pod.volumes).toContainEqual({
      name: 'corporate-ca',
      configMap: { name: 'corporate-ca' },
    });
    expect(container.volumeMounts).toContainEqual({
      name: 'corporate-ca',
      mountPath: '/etc/kvsync/ca',
      readOnly: true,
    });
    // Overrides merge into the defaults: the rest of "restricted" stays.
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 65532,
      fsGroup: 65532,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      runAsUser: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.image).toBe(`registry.example.com/platform/kvsync@sha256:${'ab'.repeat(32)}`);
    expect(container.args).toEqual(
      expect.arrayContaining([
        `--namespaces=${watched}`,
        '--workers=8',
        '--default-refresh-interval=30m',
        '--vault-requests-per-10s=1000',
        '--value-cache-size=256Mi',
        '--expiry-window=360h',
        `--default-identity-namespaces=${watched}`,
        '--vault-suffixes=.vault.example.internal',
        '--log-level=trace',
        '--log-format=text',
        '--event-queue-url=https://kvevents.queue.core.windows.net/key-vault-events',
        '--event-sweep-interval=1h',
        '--rollout-min-interval=5m',
      ]),
    );
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'HTTPS_PROXY', value: 'http://proxy.example.internal:3128' },
      ]),
    );
    const rule = docs.find((d) => d.kind === 'PrometheusRule');
    // Twice the 30m refresh interval, and 14 days.
    expect(JSON.stringify(rule)).toContain('kvsync_last_sync_timestamp_seconds) > 3600');
    expect(JSON.stringify(rule)).toContain(`< ${14 * 86400}`);
  });

  it('the pod template passes the "restricted" Pod Security Standard (enforced, not warned)', async () => {
    const restricted = await createTestNamespace(kc, 'chart-pss');
    try {
      await kubectl(
        'label',
        'namespace',
        restricted,
        'pod-security.kubernetes.io/enforce=restricted',
      );
      const manifest = await helmTemplate(info, { release: 'kvsync', namespace: restricted });
      const docs = documents(manifest);
      // The ServiceAccount admission plugin wants the pod's ServiceAccount to exist.
      const serviceAccount = docs.find((d) => d.kind === 'ServiceAccount');
      await kubectlWithManifest(info, ['create'], JSON.stringify(serviceAccount));
      const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
        spec: { template: { metadata: object; spec: { containers: ContainerSpec[] } } };
      };
      const pod = (spec: object) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `kvsync-pss-${randomBytes(2).toString('hex')}`, namespace: restricted },
        spec,
      });
      // The API server enforces the label: a pod that runs as root is refused...
      const template = deployment.spec.template.spec;
      const rootContainer = { ...template.containers[0]!, securityContext: {} };
      await expect(
        kubectlWithManifest(
          info,
          ['create', '--dry-run=server'],
          JSON.stringify(pod({ ...template, securityContext: {}, containers: [rootContainer] })),
        ),
      ).rejects.toThrow(/violates PodSecurity "restricted/);
      // ...and kvsync's pod is admitted.
      const out = await kubectlWithManifest(
        info,
        ['create', '--dry-run=server'],
        JSON.stringify(pod(template)),
      );
      expect(out).toMatch(/created \(server dry run\)/);

      // OpenShift assigns user and group itself: with them set to null the chart names none,
      // and the pod is still "restricted".
      const openShift = documents(
        await helmTemplate(info, {
          release: 'kvsync',
          namespace: restricted,
          values: { podSecurityContext: { runAsUser: null, runAsGroup: null, fsGroup: null } },
          extraArgs: ['--show-only', 'templates/deployment.yaml'],
        }),
      )[0] as unknown as typeof deployment;
      const unassigned = openShift.spec.template.spec;
      expect(JSON.stringify(unassigned)).not.toMatch(/runAsUser|runAsGroup|fsGroup/);
      expect(
        await kubectlWithManifest(
          info,
          ['create', '--dry-run=server'],
          JSON.stringify(pod(unassigned)),
        ),
      ).toMatch(/created \(server dry run\)/);
    } finally {
      await deleteTestNamespace(kc, restricted);
    }
  });
});

interface ContainerSpec {
  image: string;
  args: string[];
  env: { name: string; value?: string }[];
  securityContext: object;
  volumeMounts: object[];
}

interface PodSpec {
  containers: ContainerSpec[];
  securityContext?: object;
  priorityClassName?: string;
  topologySpreadConstraints?: object[];
  volumes: object[];
}

describe('helm install', () => {
  it('installs into the API server and uninstalls cleanly', async () => {
    const ns = await createTestNamespace(kc, 'chart-install');
    const release = `kvsync-${randomBytes(3).toString('hex')}`;
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    try {
      await helm(
        'install',
        release,
        chartDir,
        '--namespace',
        ns,
        '--set',
        'azure.workloadIdentity.clientId=00000000-0000-0000-0000-0000000000c1',
        '--set',
        'azure.workloadIdentity.tenantId=00000000-0000-0000-0000-0000000000a1',
        // The test API server has the CRD already, applied by another field manager
        // (chart-lifecycle.test.ts installs and upgrades a chart's CRD of its own).
        '--set',
        'crds.install=false',
        // chart-lifecycle.test.ts asserts what the default roles grant without them.
        '--set',
        'rbac.aggregateToView=false,rbac.aggregateToEdit=false',
      );
      const status = JSON.parse(await helm('status', release, '--namespace', ns, '-o', 'json')) as {
        info: { status: string; notes: string };
      };
      expect(status.info.status).toBe('deployed');
      expect(status.info.notes).toContain(
        'crds.install is off: apply the VaultSecret CRD yourself, and again after each upgrade:',
      );

      const sa = await core.readNamespacedServiceAccount({ name: release, namespace: ns });
      expect(sa.metadata?.annotations).toMatchObject({
        'azure.workload.identity/client-id': '00000000-0000-0000-0000-0000000000c1',
        'azure.workload.identity/tenant-id': '00000000-0000-0000-0000-0000000000a1',
      });
      const deployment = await kc
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: release, namespace: ns });
      expect(deployment.spec?.template.metadata?.labels).toMatchObject({
        'azure.workload.identity/use': 'true',
      });
      await rbac.readClusterRole({ name: release });

      await helm('uninstall', release, '--namespace', ns, '--wait', '--timeout', '60s');
      await waitFor(
        () =>
          rbac.readClusterRole({ name: release }).then(
            () => false,
            (err: { code?: number }) => err.code === 404,
          ),
        { description: `ClusterRole ${release} to be deleted by helm uninstall` },
      );
    } finally {
      await helm('uninstall', release, '--namespace', ns, '--ignore-not-found').catch(() => '');
      await deleteTestNamespace(kc, ns);
    }
  });
});

describe('kubectl apply of crds/ and deploy/', () => {
  it('kubectl apply -f crds/ is accepted (and idempotent)', async () => {
    for (let i = 0; i < 2; i++) {
      const out = await kubectl(
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=kvsync-test',
        '-f',
        path.join(repoRoot, 'crds'),
      );
      expect(out).toContain(
        'customresourcedefinition.apiextensions.k8s.io/vaultsecrets.kvsync.io serverside-applied',
      );
    }
  });

  it('deploy/ builds the kustomize base users apply: namespace kvsync-system and everything in it', async () => {
    const docs = documents(await kubectl('kustomize', path.join(repoRoot, 'deploy')));
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole', // aggregated into edit and admin
      'ClusterRole', // aggregated into view
      'ClusterRole', // ClusterVaultSecret and Namespace reads
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'Namespace',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
    ]);
    const clusterScoped = [
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Namespace',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ];
    for (const doc of docs) {
      if (!clusterScoped.includes(doc.kind)) {
        expect(doc.metadata.namespace, `${doc.kind} ${doc.metadata.name}`).toBe('kvsync-system');
      }
      expect(doc.metadata.labels ?? {}).not.toHaveProperty('helm.sh/chart');
    }
  });

  it('kubectl apply -k applies deploy/ for real (through an overlay into a test namespace)', async () => {
    const ns = await createTestNamespace(kc, 'kustomize');
    const suffix = `-${randomBytes(3).toString('hex')}`;
    const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-overlay-'));
    try {
      // The kind of overlay users write: another namespace, and the shared cluster's names kept
      // unique. The CRD is applied from crds/ above; the namespace exists already.
      await writeFile(
        path.join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          `namespace: ${ns}`,
          // Quoted: a hex suffix like -123e45 would read as a number.
          `nameSuffix: "${suffix}"`,
          'resources:',
          // kustomize takes a base outside the overlay, but only by a relative path.
          `  - ${path.relative(dir, path.join(repoRoot, 'deploy'))}`,
          'patches:',
          '  - patch: |-',
          '      $patch: delete',
          '      apiVersion: v1',
          '      kind: Namespace',
          '      metadata: { name: kvsync-system }',
          '  - patch: |-',
          '      $patch: delete',
          '      apiVersion: apiextensions.k8s.io/v1',
          '      kind: CustomResourceDefinition',
          '      metadata: { name: vaultsecrets.kvsync.io }',
          // Cluster-wide grants to every namespace editor; chart-lifecycle.test.ts tests them.
          ...['kvsync-edit', 'kvsync-view'].flatMap((name) => [
            '  - patch: |-',
            '      $patch: delete',
            '      apiVersion: rbac.authorization.k8s.io/v1',
            '      kind: ClusterRole',
            `      metadata: { name: ${name} }`,
          ]),
          '  - patch: |-',
          '      $patch: delete',
          '      apiVersion: apiextensions.k8s.io/v1',
          '      kind: CustomResourceDefinition',
          '      metadata: { name: clustervaultsecrets.kvsync.io }',
          '',
        ].join('\n'),
      );
      const out = await kubectl('apply', '-k', dir);
      expect(out).toContain(`deployment.apps/kvsync${suffix} created`);
      expect(out).toContain(`clusterrolebinding.rbac.authorization.k8s.io/kvsync${suffix} created`);
      expect(out).toContain(
        `validatingadmissionpolicybinding.admissionregistration.k8s.io/kvsync-secrets${suffix} created`,
      );
      const binding = await kc
        .makeApiClient(RbacAuthorizationV1Api)
        .readClusterRoleBinding({ name: `kvsync${suffix}` });
      // kustomize rewrote the subject: the binding names the ServiceAccount that exists.
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: `kvsync${suffix}`, namespace: ns },
      ]);
      await core.readNamespacedServiceAccount({ name: `kvsync${suffix}`, namespace: ns });
    } finally {
      await kubectl(
        'delete',
        '--ignore-not-found',
        `clusterrolebinding/kvsync${suffix}`,
        `clusterrole/kvsync${suffix}`,
        ...admissionPolicies.flatMap((policy) => [
          `validatingadmissionpolicybinding/kvsync-${policy}${suffix}`,
          `validatingadmissionpolicy/kvsync-${policy}${suffix}`,
        ]),
        `clusterrolebinding/kvsync-cluster-vault-secrets${suffix}`,
        `clusterrole/kvsync-cluster-vault-secrets${suffix}`,
      );
      await rm(dir, { recursive: true, force: true });
      await deleteTestNamespace(kc, ns);
    }
  });

  it('deploy/ is exactly what the chart renders (node scripts/generate-deploy.ts)', async () => {
    expect(await deployDrift(toolPath(info.binDir, 'helm'))).toEqual([]);
  });
});
