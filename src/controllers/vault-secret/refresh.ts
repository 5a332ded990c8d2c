// Pure: when to look at a VaultSecret again after a successful sync. Rotation is noticed by the
// vault sweep (at refreshInterval) and by events, not here; this periodic requeue only heals what a
// watch may have missed (and picks up identity changes nothing watches) and flips ExpiringSoon on
// time. It reads from the cache and costs no Key Vault call, but at 10,000 VaultSecrets with a 60 s
// refreshInterval a requeue per interval was 10,000 reconciles a minute for nothing, so it runs at
// most every 10 minutes.
import type { VaultSecretStatus } from '../../api/vault-secret.ts';
import { msUntilExpiryWarning } from './status.ts';

/** Spread by ±10% so VaultSecrets created together do not come back together. */
const jitter = 0.1;
/** The periodic requeue runs no more often than this, whatever the refreshInterval. */
export const minResyncMs = 10 * 60_000;

export function nextRefreshMs(
  refreshMs: number,
  status: VaultSecretStatus,
  now: Date,
  expiryWindowMs: number,
  random: () => number,
): number | undefined {
  const candidates: number[] = [];
  if (refreshMs > 0) {
    const resyncMs = Math.max(refreshMs, minResyncMs);
    candidates.push(Math.round(resyncMs * (1 - jitter + 2 * jitter * random())));
  }
  const untilWarning = msUntilExpiryWarning(status, now, expiryWindowMs);
  if (untilWarning !== undefined) candidates.push(untilWarning + 1_000);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}
