// Which VaultSecrets an event concerns: fed by the VaultSecret informer, it maps (vault host,
// object name) to VaultSecret keys and keeps each VaultSecret's `find` selectors. Key Vault keeps a
// certificate's key and certificate in a backing secret of the same name, and kvsync reads both
// kinds through that secret, so an event about either kind concerns readers of the name.
import type { VaultSecret } from '../api/vault-secret.ts';
import { planSync } from '../controllers/vault-secret/plan.ts';
import { parseVaultUrl } from '../keyvault/vault-url.ts';
import type { NamePattern } from '../keyvault/vault-mirror.ts';
import type { KeyVaultEvent } from './key-vault-event.ts';

interface Subscription {
  readonly vaultHost: string;
  /** Names read at their latest version. */
  readonly latest: ReadonlySet<string>;
  /** Names read at a pinned version, with the versions. */
  readonly pinned: ReadonlyMap<string, ReadonlySet<string>>;
  /** `find` name patterns; undefined matches every name (tags cannot be checked from an event). */
  readonly finds: readonly (NamePattern | undefined)[];
}

export type MatchEvent = Pick<KeyVaultEvent, 'vaultHost' | 'kind' | 'name' | 'version' | 'change'>;

export class VaultSecretIndex {
  private readonly subscriptions = new Map<string, Subscription>();
  /** `host|name` -> keys of VaultSecrets reading that name, latest or pinned. */
  private readonly readers = new Map<string, Set<string>>();
  /** host -> keys of VaultSecrets with `find` sources on that vault. */
  private readonly finders = new Map<string, Set<string>>();

  /** The VaultSecret under `key` changed (undefined: deleted). */
  update(key: string, vaultSecret: VaultSecret | undefined): void {
    this.remove(key);
    const subscription = vaultSecret && subscriptionOf(vaultSecret);
    if (!subscription) return;
    this.subscriptions.set(key, subscription);
    for (const name of new Set([...subscription.latest, ...subscription.pinned.keys()])) {
      addTo(this.readers, `${subscription.vaultHost}|${name}`, key);
    }
    if (subscription.finds.length > 0) addTo(this.finders, subscription.vaultHost, key);
  }

  /**
   * Keys of the VaultSecrets the event concerns. A new version concerns readers of the latest
   * version and `find` sources whose pattern matches; never a pinned version. Expiry events
   * concern pinned readers too, when the version is theirs.
   */
  match(event: MatchEvent): string[] {
    const host = event.vaultHost.toLowerCase();
    const keys = new Set<string>();
    for (const key of this.readers.get(`${host}|${event.name}`) ?? []) {
      const subscription = this.subscriptions.get(key);
      if (!subscription) continue;
      if (subscription.latest.has(event.name)) {
        keys.add(key);
      } else if (event.change !== 'NewVersion') {
        const versions = subscription.pinned.get(event.name);
        if (versions && (event.version === undefined || versions.has(event.version))) keys.add(key);
      }
    }
    // A certificate's backing secret is never listed for `find` (it is a managed secret).
    if (event.kind === 'secret') {
      for (const key of this.finders.get(host) ?? []) {
        const finds = this.subscriptions.get(key)?.finds ?? [];
        if (finds.some((pattern) => pattern === undefined || pattern.test(event.name)))
          keys.add(key);
      }
    }
    return [...keys];
  }

  get size(): number {
    return this.subscriptions.size;
  }

  private remove(key: string): void {
    const previous = this.subscriptions.get(key);
    if (!previous) return;
    this.subscriptions.delete(key);
    for (const name of new Set([...previous.latest, ...previous.pinned.keys()])) {
      removeFrom(this.readers, `${previous.vaultHost}|${name}`, key);
    }
    removeFrom(this.finders, previous.vaultHost, key);
  }
}

/** Undefined for a spec kvsync cannot sync anyway (bad URL, bad pattern): it has no status to fix. */
function subscriptionOf(vaultSecret: VaultSecret): Subscription | undefined {
  let vaultHost: string;
  let plan: ReturnType<typeof planSync>;
  try {
    vaultHost = parseVaultUrl(vaultSecret.spec.vault.url).host;
    plan = planSync(vaultSecret);
  } catch {
    return undefined;
  }
  const latest = new Set<string>();
  const pinned = new Map<string, Set<string>>();
  const finds: (NamePattern | undefined)[] = [];
  for (const source of plan.sources) {
    if (source.type === 'find') {
      finds.push(source.selector.nameRegex);
    } else if (source.read.version === undefined) {
      latest.add(source.read.name);
    } else {
      addTo(pinned, source.read.name, source.read.version);
    }
  }
  return { vaultHost, latest, pinned, finds };
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  set?.delete(value);
  if (set?.size === 0) map.delete(key);
}
