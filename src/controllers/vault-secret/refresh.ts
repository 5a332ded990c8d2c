// Pure: when to look at a VaultSecret again after a successful sync. Rotation is noticed by the
// vault sweep, not here; this periodic requeue only heals missed events and flips ExpiringSoon on
// time, and it reads from the cache, so it costs no Key Vault call.
import type { VaultSecretStatus } from '../../api/vault-secret.ts';
import { msUntilExpiryWarning } from './status.ts';

/** Spread by ±10% so VaultSecrets created together do not come back together. */
const jitter = 0.1;

export function nextRefreshMs(
  refreshMs: number,
  status: VaultSecretStatus,
  now: Date,
  expiryWindowMs: number,
  random: () => number,
): number | undefined {
  const candidates: number[] = [];
  if (refreshMs > 0) candidates.push(Math.round(refreshMs * (1 - jitter + 2 * jitter * random())));
  const untilWarning = msUntilExpiryWarning(status, now, expiryWindowMs);
  if (untilWarning !== undefined) candidates.push(untilWarning + 1_000);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}
