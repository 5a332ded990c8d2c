// A VaultPool over an in-memory vault with one mirror, for unit tests of sweeping and events.
// `random` draws each mirror's spread (0: sweeps exactly one interval apart).
import { VaultPool } from '../../../src/keyvault/vault-pool.ts';
import { MemoryReader } from './memory-reader.ts';

export const minute = 60_000;
const identity = { key: 'default', credential: { getToken: () => Promise.resolve(null) } };
const vaultUrl = 'https://unit.vault.azure.net/';

export function poolWithMirror(random: () => number = () => 0) {
  const reader = new MemoryReader();
  const enqueued: string[] = [];
  const pool = new VaultPool({
    readerFor: () => reader,
    enqueue: (key) => enqueued.push(key),
    random,
  });
  const mirror = pool.mirror(vaultUrl, identity);
  return { reader, pool, mirror, enqueued };
}
