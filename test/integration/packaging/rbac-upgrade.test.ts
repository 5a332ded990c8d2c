// kvsync upgraded before its RBAC: without the cluster-wide ClusterVaultSecret and Namespace reads
// it serves no ClusterVaultSecret, says so once, and keeps syncing VaultSecrets.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  waitFor,
} from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';
import { applyChartRbac, chartServiceAccountKubeConfig, type ChartRbac } from './chart.ts';

describe('kvsync with the RBAC of a chart before ClusterVaultSecrets', () => {
  const info = inject('controlPlane');
  const admin = kubeConfigFrom(info);
  let operatorNamespace: string;
  let rbac: ChartRbac;
  let env: SyncEnvironment;

  beforeAll(async () => {
    operatorNamespace = await createTestNamespace(admin, 'rbac-old');
    rbac = await applyChartRbac(info, operatorNamespace);
    await runTool(info, 'kubectl', [
      'delete',
      `clusterrolebinding/${rbac.release}-cluster-vault-secrets`,
    ]);
    const chartKc = await chartServiceAccountKubeConfig(info, rbac);
    await waitFor(
      async () => {
        const review = await chartKc
          .makeApiClient(AuthorizationV1Api)
          .createSelfSubjectAccessReview({
            body: { spec: { resourceAttributes: { verb: 'list', resource: 'namespaces' } } },
          });
        return review.status?.allowed === false;
      },
      { description: 'the cluster-wide reads to be revoked' },
    );
    env = await startSyncEnvironment(info, {
      prefix: 'rbac-old',
      manager: { kubeConfig: chartKc, clusterVaultSecrets: true },
    });
  });

  afterAll(async () => {
    await env?.close();
    await rbac?.remove();
    if (operatorNamespace) await deleteTestNamespace(admin, operatorNamespace);
  });

  it('keeps syncing VaultSecrets and says why ClusterVaultSecrets are not served', async () => {
    const vault = env.azure.keyVault.createVault('rbac-old');
    vault.grant(env.clientId);
    vault.setSecret('db-password', 'rbac-old-password-0c3d');
    await applyVaultSecret(env.kc, env.namespace, 'app', {
      vault: { url: env.azure.vaultUrl('rbac-old') },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'app', { status: 'True' });
    expect(decoded(await readSecret(env.kc, env.namespace, 'app'))).toEqual({
      password: 'rbac-old-password-0c3d',
    });
    const warnings = env.logs.lines.filter((line) =>
      line.includes('ClusterVaultSecrets are not served'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('may not list clustervaultsecrets cluster-wide');
  });
});
