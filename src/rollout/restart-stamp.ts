// The value kvsync writes into a workload's pod template when synced data changed. It must change
// exactly when the data does (so re-applying is a no-op) yet tell nothing about the data: anyone
// who can read Deployments can read the annotation, and a plain hash of a low-entropy secret is
// a guessing oracle. So it is an HMAC, with a key only kvsync holds (see restart-key.ts), of the
// data's digest (secret-digest.ts).
import { createHmac } from 'node:crypto';

export const RESTART_ANNOTATION = 'kvsync.io/restartedFor';
/** On the synced Secret while workload restarts are owed for a change of its data. */
export const RESTART_PENDING_ANNOTATION = 'kvsync.io/restartPending';

/** The annotation value for this VaultSecret's data: hex HMAC-SHA256, truncated to 128 bits. */
export function restartStamp(key: Buffer, vaultSecretKey: string, digest: string): string {
  return createHmac('sha256', key)
    .update(`${vaultSecretKey}\n`)
    .update(Buffer.from(digest, 'base64'))
    .digest('hex')
    .slice(0, 32);
}
