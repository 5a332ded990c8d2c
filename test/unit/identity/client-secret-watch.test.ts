import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VaultSecret } from '../../../src/api/vault-secret.ts';
import { watchRefusedClientSecrets } from '../../../src/identity/client-secret-watch.ts';
import type { IdentityResolver, ObjectRef } from '../../../src/identity/types.ts';
import { Store } from '../../../src/runtime/store.ts';
import { FakeWatchServer } from '../runtime/fake-watch-server.ts';

const poll = { timeout: 5_000, interval: 10 };
const creds = { namespace: 'payments', name: 'creds' };

function vaultSecret(namespace: string, name: string, secretName: string): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { namespace, name },
    spec: {
      vault: {
        url: 'https://kv.vault.azure.net',
        identity: { clientSecretRef: { name: secretName } },
      },
      data: [],
    },
  };
}

let server: FakeWatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup() {
  server = new FakeWatchServer();
  const kubeConfig = await server.start();
  let report: (secrets: readonly ObjectRef[]) => void = () => {};
  const changed: ObjectRef[] = [];
  const identities: IdentityResolver = {
    resolve: () => Promise.reject(new Error('not used')),
    onRefusedClientSecrets: (listener) => (report = listener),
    clientSecretChanged: (namespace, name) => changed.push({ namespace, name }),
  };
  const vaultSecrets = new Store<VaultSecret>({});
  vaultSecrets.upsert(vaultSecret('payments', 'uses', 'creds'));
  vaultSecrets.upsert(vaultSecret('payments', 'other', 'other-creds'));
  vaultSecrets.upsert(vaultSecret('orders', 'elsewhere', 'creds'));
  // Kept by a ClusterVaultSecret: its clientSecretRef is in kvsync's namespace.
  const kept = vaultSecret('orders', 'kept', 'platform-creds');
  kept.metadata.ownerReferences = [
    {
      apiVersion: 'kvsync.io/v1alpha1',
      kind: 'ClusterVaultSecret',
      name: 'platform',
      uid: 'u1',
      controller: true,
    },
  ];
  vaultSecrets.upsert(kept);
  const enqueued: string[] = [];
  const watch = watchRefusedClientSecrets({
    kubeConfig,
    identities,
    vaultSecrets,
    enqueue: (key) => enqueued.push(key),
    log: pino({ level: 'silent' }),
  });
  return { server, report: (secrets: ObjectRef[]) => report(secrets), changed, enqueued, watch };
}

describe('watchRefusedClientSecrets', () => {
  it('watches only the refused Secret, by name, while its identity is refused', async () => {
    const { server, report, changed, enqueued, watch } = await setup();
    server.put('payments', 'creds');
    report([creds]);
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    expect(server.watches).toMatchObject([
      { namespace: 'payments', fieldSelector: 'metadata.name=creds', labelSelector: null },
    ]);
    // The first list is the Secret as refused: its users look once, its pause goes on.
    await vi.waitFor(() => expect(enqueued).toEqual(['payments/uses']), poll);
    expect(changed).toEqual([]);

    server.emit('MODIFIED', server.put('payments', 'creds'));
    await vi.waitFor(() => expect(changed).toEqual([creds]), poll);
    expect(enqueued).toEqual(['payments/uses', 'payments/uses']);

    report([creds]); // refused again: still the one watch
    report([]);
    await vi.waitFor(() => expect(server.openWatches).toBe(0), poll);
    expect(server.watches).toHaveLength(1);
    await watch.stop();
  });

  it("reconciles a ClusterVaultSecret's VaultSecrets when the Secret in kvsync's namespace changes", async () => {
    const { server, report, changed, enqueued, watch } = await setup();
    const platform = { namespace: 'kvsync-system', name: 'platform-creds' };
    report([platform]);
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.emit('ADDED', server.put('kvsync-system', 'platform-creds'));
    await vi.waitFor(() => expect(changed).toEqual([platform]), poll);
    // Once after the first list, once for the change.
    expect(enqueued).toEqual(['orders/kept', 'orders/kept']);
    await watch.stop();
    await vi.waitFor(() => expect(server.openWatches).toBe(0), poll);
  });
});
