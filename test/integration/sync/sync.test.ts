// Sync of Key Vault secrets into Secrets, against the real API server (with garbage collection)
// and the Key Vault double, through kvsync's manager.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { forceSyncAnnotation } from '../../../src/api/vault-secret.ts';
import {
  annotateVaultSecret,
  applyVaultSecret,
  decoded,
  deleteVaultSecret,
  getVaultSecret,
  metricValue,
  patchSecretData,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const seeded = {
  password: 'sync-test-password-7f3a9c',
  user: 'sync-test-user-41d2',
  apiKey: 'sync-test-api-key-90be',
  settings: 'sync-test-setting-c0ffee',
  handEdited: 'sync-test-hand-edit-5521',
};
const encoded = (value: string) => Buffer.from(value).toString('base64');

describe('sync of Key Vault secrets into a Secret', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;
  let vaultUrl: string;
  const calls = (operation?: 'getSecret' | 'getSecretVersion' | 'listSecrets') =>
    env.azure.keyVault.counters.calls({ vault: 'sync-basic', ...(operation ? { operation } : {}) });

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'sync' });
    vault = env.azure.keyVault.createVault('sync-basic');
    vault.grant(env.clientId);
    vaultUrl = env.azure.vaultUrl('sync-basic');
    vault.setSecret('db-password', seeded.password);
    vault.setSecret('db-config', JSON.stringify({ user: seeded.user, port: 5432 }));
    vault.setSecret('payments-api-key', seeded.apiKey, { tags: { team: 'payments' } });
    vault.setSecret('payments-other-team', 'not-selected', { tags: { team: 'other' } });
    vault.setSecret('app-settings', JSON.stringify({ LOG_LEVEL: seeded.settings, RETRIES: 3 }));
  });

  afterAll(async () => {
    await env?.close();
  });

  it('creates the Secret with the right data, owner reference and status', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'payments', {
      vault: { url: vaultUrl },
      data: [
        { key: 'password', secret: { name: 'db-password' } },
        { key: 'user', secret: { name: 'db-config', property: 'user' } },
      ],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'payments', {
      status: 'True',
      reason: 'Synced',
    });
    const secret = await readSecret(env.kc, env.namespace, 'payments');
    expect(decoded(secret)).toEqual({ password: seeded.password, user: seeded.user });
    expect(secret?.type).toBe('Opaque');
    expect(secret?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'VaultSecret',
      name: 'payments',
      uid: vs.metadata.uid,
      controller: true,
    });
    expect(vs.status?.secretName).toBe('payments');
    expect(vs.status?.objects?.map((o) => o.name).sort()).toEqual(['db-config', 'db-password']);
    expect(vs.status?.objects?.every((o) => /^[0-9a-f]{32}$/.test(o.version ?? ''))).toBe(true);
    expect(vs.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe(
      '2 keys from 2 objects',
    );
  });

  it('expands dataFrom: a JSON object secret and a find by name and tags with stripPrefix', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'bulk', {
      vault: { url: vaultUrl },
      target: { name: 'bulk-out', labels: { app: 'billing' }, annotations: { owner: 'team-b' } },
      dataFrom: [
        {
          find: { nameRegex: '^payments-', tags: { team: 'payments' } },
          rewrite: { stripPrefix: 'payments-' },
        },
        { secret: { name: 'app-settings' } },
      ],
    });
    await waitForReady(env.kc, env.namespace, 'bulk', { status: 'True' });
    const secret = await readSecret(env.kc, env.namespace, 'bulk-out');
    expect(decoded(secret)).toEqual({
      'api-key': seeded.apiKey,
      LOG_LEVEL: seeded.settings,
      RETRIES: '3',
    });
    expect(secret?.metadata?.labels).toMatchObject({
      app: 'billing',
      'app.kubernetes.io/managed-by': 'kvsync',
    });
    expect(secret?.metadata?.annotations).toMatchObject({ owner: 'team-b' });
  });

  it('restores a hand-edited Secret from the cache without calling Key Vault', async () => {
    await waitForReady(env.kc, env.namespace, 'payments', { status: 'True' });
    const before = calls();
    await patchSecretData(env.kc, env.namespace, 'payments', {
      password: Buffer.from(seeded.handEdited).toString('base64'),
      extra: Buffer.from('added-by-hand').toString('base64'),
    });
    await waitFor(
      async () => {
        const data = decoded(await readSecret(env.kc, env.namespace, 'payments'));
        return data.password === seeded.password && !('extra' in data);
      },
      { description: 'the hand edit to be reverted' },
    );
    expect(calls()).toBe(before);
  });

  it('restores one value edited or blanked by hand, with no key added or removed', async () => {
    const before = calls();
    const restored = async () =>
      decoded(await readSecret(env.kc, env.namespace, 'payments')).user === seeded.user;
    await patchSecretData(env.kc, env.namespace, 'payments', { user: encoded(seeded.handEdited) });
    await waitFor(restored, { description: 'the edited value to be restored' });
    await patchSecretData(env.kc, env.namespace, 'payments', { user: '' });
    await waitFor(restored, { description: 'the blanked value to be restored' });
    expect(decoded(await readSecret(env.kc, env.namespace, 'payments'))).toEqual({
      password: seeded.password,
      user: seeded.user,
    });
    expect(calls()).toBe(before);
  });

  it('recreates a deleted Secret from the cache without calling Key Vault', async () => {
    const before = calls();
    await env.kc
      .makeApiClient(CoreV1Api)
      .deleteNamespacedSecret({ namespace: env.namespace, name: 'payments' });
    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'payments')).password === seeded.password,
      {
        description: 'the deleted Secret to be recreated',
      },
    );
    expect(calls()).toBe(before);
  });

  it('refuses to overwrite a Secret it does not manage, and leaves it untouched', async () => {
    const core = env.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: env.namespace,
      body: { metadata: { name: 'someone-elses' }, stringData: { mine: 'keep-me' } },
    });
    await applyVaultSecret(env.kc, env.namespace, 'intruder', {
      vault: { url: vaultUrl },
      target: { name: 'someone-elses' },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'intruder', {
      status: 'False',
      reason: 'SecretConflict',
    });
    expect(vs.status?.conditions?.[0]?.message).toContain('not managed by this VaultSecret');
    const secret = await readSecret(env.kc, env.namespace, 'someone-elses');
    expect(decoded(secret)).toEqual({ mine: 'keep-me' });
    expect(secret?.metadata?.ownerReferences).toBeUndefined();
  });

  it('merges its keys into an existing Secret under creationPolicy Merge, keeping the others', async () => {
    const core = env.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name: 'shared', annotations: { 'kvsync.io/merge-from': 'merger' } },
        stringData: { existing: 'stays' },
      },
    });
    await applyVaultSecret(env.kc, env.namespace, 'merger', {
      vault: { url: vaultUrl },
      target: { name: 'shared', creationPolicy: 'Merge' },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'merger', { status: 'True' });
    const secret = await readSecret(env.kc, env.namespace, 'shared');
    expect(decoded(secret)).toEqual({ existing: 'stays', password: seeded.password });
    expect(secret?.metadata?.ownerReferences).toBeUndefined();
  });

  it('under Merge restores its key edited by hand, keeps the others, and else writes nothing', async () => {
    await patchSecretData(env.kc, env.namespace, 'shared', {
      password: encoded(seeded.handEdited),
      existing: encoded('changed-by-its-owner'),
    });
    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'shared')).password === seeded.password,
      { description: 'the merged key to be restored' },
    );
    const secret = await readSecret(env.kc, env.namespace, 'shared');
    expect(decoded(secret)).toEqual({
      existing: 'changed-by-its-owner',
      password: seeded.password,
    });

    const applies = () =>
      metricValue(env.metrics, 'kvsync_kube_writes_total', { resource: 'secrets', verb: 'apply' });
    const writes = await applies();
    await annotateVaultSecret(env.kc, env.namespace, 'merger', { [forceSyncAnnotation]: 'again' });
    await waitFor(
      async () =>
        (await getVaultSecret(env.kc, env.namespace, 'merger')).status?.lastHandledForceSync ===
        'again',
      { description: 'another sync of the merged Secret' },
    );
    expect(await applies()).toBe(writes);
    expect((await readSecret(env.kc, env.namespace, 'shared'))?.metadata?.resourceVersion).toBe(
      secret?.metadata?.resourceVersion,
    );
  });

  it('garbage-collects the Secret with its VaultSecret under Owner, keeps it under Orphan', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'owned', {
      vault: { url: vaultUrl },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await applyVaultSecret(env.kc, env.namespace, 'orphaned', {
      vault: { url: vaultUrl },
      target: { creationPolicy: 'Orphan' },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'owned', { status: 'True' });
    await waitForReady(env.kc, env.namespace, 'orphaned', { status: 'True' });
    await deleteVaultSecret(env.kc, env.namespace, 'owned');
    await deleteVaultSecret(env.kc, env.namespace, 'orphaned');
    await waitFor(async () => (await readSecret(env.kc, env.namespace, 'owned')) === undefined, {
      description: 'the owned Secret to be garbage-collected',
    });
    expect(decoded(await readSecret(env.kc, env.namespace, 'orphaned'))).toEqual({
      password: seeded.password,
    });
  });

  it('refuses a vault host outside the allowed suffixes before any token is sent', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'foreign', {
      vault: { url: 'https://attacker.example.com/' },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'foreign', {
      status: 'False',
      reason: 'InvalidSpec',
    });
    expect(vs.status?.conditions?.[0]?.message).toContain('not a Key Vault host');
    expect(await readSecret(env.kc, env.namespace, 'foreign')).toBeUndefined();
  });

  it('reports a missing object and writes nothing', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'missing', {
      vault: { url: vaultUrl },
      data: [
        { key: 'password', secret: { name: 'db-password' } },
        { key: 'ghost', secret: { name: 'does-not-exist' } },
      ],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'missing', {
      status: 'False',
      reason: 'ObjectNotFound',
    });
    expect(vs.status?.conditions?.[0]?.message).toContain('does-not-exist');
    expect(await readSecret(env.kc, env.namespace, 'missing')).toBeUndefined();
  });

  it('checks typed targets: a dockerconfigjson Secret is written, a tls Secret without a key is refused', async () => {
    vault.setSecret(
      'registry',
      JSON.stringify({ auths: { 'registry.example.com': { auth: seeded.apiKey } } }),
    );
    await applyVaultSecret(env.kc, env.namespace, 'pull', {
      vault: { url: vaultUrl },
      target: { type: 'kubernetes.io/dockerconfigjson' },
      data: [{ key: '.dockerconfigjson', secret: { name: 'registry' } }],
    });
    await waitForReady(env.kc, env.namespace, 'pull', { status: 'True' });
    expect((await readSecret(env.kc, env.namespace, 'pull'))?.type).toBe(
      'kubernetes.io/dockerconfigjson',
    );

    await applyVaultSecret(env.kc, env.namespace, 'half-tls', {
      vault: { url: vaultUrl },
      target: { type: 'kubernetes.io/tls' },
      data: [{ key: 'tls.crt', secret: { name: 'db-password' } }],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'half-tls', {
      status: 'False',
      reason: 'InvalidContent',
    });
    expect(vs.status?.conditions?.[0]?.message).toBe(
      'a Secret of type kubernetes.io/tls needs the key tls.key',
    );
    expect(await readSecret(env.kc, env.namespace, 'half-tls')).toBeUndefined();
  });

  it('never writes a secret value into logs', () => {
    for (const value of Object.values(seeded)) expect(env.logs.text).not.toContain(value);
    expect(env.logs.lines.length).toBeGreaterThan(0);
  });
});
