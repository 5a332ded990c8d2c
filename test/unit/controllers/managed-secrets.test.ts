// kvsync's Secret cache holds no Secret values: listed and watched Secrets are kept with a digest
// of their data, which still tells a changed value apart.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { managedSecretsInformer } from '../../../src/controllers/vault-secret/managed-secrets.ts';
import { dataDigest } from '../../../src/kube/secret-digest.ts';
import { FakeWatchServer } from '../runtime/fake-watch-server.ts';

const poll = { timeout: 10_000, interval: 5 };
const managed = { 'app.kubernetes.io/managed-by': 'kvsync' };
const seeded = ['cache-test-key-5d0c77e1', 'cache-test-chain-a93f0b26', 'cache-test-rotated-41e8'];
const encoded = (value: string) => Buffer.from(value).toString('base64');

/** Every string reachable from `value`, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [key, ...strings(child)]);
}

describe("kvsync's Secret cache", () => {
  const server = new FakeWatchServer();
  const informers: Array<{ stop(): Promise<void> }> = [];

  afterEach(async () => {
    await Promise.all(informers.map((informer) => informer.stop()));
    await server.close();
  });

  it('keeps a digest of the data instead of the values, from lists and watch events', async () => {
    const listed = { 'tls.key': encoded(seeded[0]!), 'tls.crt': encoded(seeded[1]!) };
    server.put('apps', 'tls', managed, listed);
    const informer = managedSecretsInformer(await server.start(), { namespaces: [] });
    informers.push(informer);
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));
    const cached = informer.store.get('apps/tls');
    expect(cached?.dataDigest).toBe(dataDigest(listed));

    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    const watched = { ...listed, 'tls.key': encoded(seeded[2]!) };
    server.emit('MODIFIED', server.put('apps', 'tls', managed, watched));
    await vi.waitFor(
      () => expect(informer.store.get('apps/tls')?.dataDigest).toBe(dataDigest(watched)),
      poll,
    );
    expect(dataDigest(watched)).not.toBe(dataDigest(listed));

    const kept = strings([cached, ...informer.store.list()]);
    for (const value of seeded) {
      expect(kept.some((text) => text.includes(value) || text.includes(encoded(value)))).toBe(
        false,
      );
    }
    expect(informer.store.list().some((secret) => 'data' in secret)).toBe(false);
  });
});
