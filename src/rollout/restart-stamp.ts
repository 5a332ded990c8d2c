// The value kvsync writes into a workload's pod template when synced data changed. It must change
// exactly when the data does (so re-applying is a no-op) yet tell nothing about the data: anyone
// who can read Deployments can read the annotation, and a plain hash of a low-entropy secret is
// a guessing oracle. So it is an HMAC with a key only kvsync holds (see restart-key.ts).
import { createHash, createHmac } from 'node:crypto';

export const RESTART_ANNOTATION = 'kvsync.io/restartedFor';
/** On the synced Secret while workload restarts are owed for a change of its data. */
export const RESTART_PENDING_ANNOTATION = 'kvsync.io/restartPending';

/** SHA-256 of the data in a canonical order. Stays in memory; only its HMAC leaves the process. */
export function dataDigest(data: Readonly<Record<string, string>>): Buffer {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) {
    const value = data[key] ?? '';
    // Length-prefixed, so no two different maps serialise alike.
    hash.update(`${key.length}:${key}${value.length}:${value}`);
  }
  return hash.digest();
}

/** The annotation value for this VaultSecret's data: hex HMAC-SHA256, truncated to 128 bits. */
export function restartStamp(key: Buffer, vaultSecretKey: string, digest: Buffer): string {
  return createHmac('sha256', key)
    .update(`${vaultSecretKey}\n`)
    .update(digest)
    .digest('hex')
    .slice(0, 32);
}
