// Failure backoff per identity, shared by every VaultSecret using it. After Entra ID refuses an
// identity, its token requests pause for a time that doubles per refusal (with jitter, up to a
// cap): a VaultSecret waiting on it calls neither Entra ID nor Key Vault. When the pause is over,
// one caller probes while the others keep waiting, so each round costs one token request however
// many VaultSecrets share the identity. A change of the ServiceAccount or Secret the identity comes
// from ends the pause at once; a granted token ends it for good.
import { LruCache } from '../runtime/lru-cache.ts';

/** Where an identity comes from: a change there may have fixed it. */
export interface IdentitySource {
  readonly kind: 'ServiceAccount' | 'Secret';
  readonly namespace: string;
  readonly name: string;
}

export interface IdentityBackoffOptions {
  /** The first pause. Default 30 s. */
  readonly initialMs?: number;
  /** The longest pause. Default 30 min. */
  readonly maxMs?: number;
  /** Pauses vary by ± this fraction, so identities refused together do not retry together. */
  readonly jitter?: number;
  /** Most identities remembered (least recently refused forgotten). Default 1000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Each refusal recorded (not the repeats within one round). */
  readonly onRefused?: (source: IdentitySource | undefined) => void;
  /** The identities remembered as refused may have changed: refused, fixed, or source changed. */
  readonly onRefusedChanged?: () => void;
}

/** The identity is paused: what Entra ID last answered, and when to look again. */
export interface Paused {
  readonly refusal: Error;
  readonly retryInMs: number;
}

/** How long the other callers wait for a probe's answer at most. */
const MAX_PROBE_MS = 60_000;

interface Entry {
  refusals: number;
  refusal: Error;
  source: IdentitySource | undefined;
  /** Token requests wait until then. */
  until: number;
  /** A caller is probing (it passed the gate after the pause) until then. */
  probeUntil: number;
}

export class IdentityBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #onRefused: ((source: IdentitySource | undefined) => void) | undefined;
  readonly #onRefusedChanged: (() => void) | undefined;
  readonly #entries: LruCache<string, Entry>;

  constructor(options: IdentityBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 30_000;
    this.#maxMs = options.maxMs ?? 30 * 60_000;
    this.#jitter = options.jitter ?? 0.2;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#onRefused = options.onRefused;
    this.#onRefusedChanged = options.onRefusedChanged;
    this.#entries = new LruCache(options.maxEntries ?? 1000);
  }

  /**
   * Before a reconcile uses the identity: undefined to go ahead (the first caller after a pause
   * becomes the probe), else the last refusal and when to look again.
   */
  admit(key: string): Paused | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#now();
    const waitUntil = Math.max(entry.until, entry.probeUntil);
    if (now >= waitUntil) {
      // A probe that never reached Entra ID (values served from cache) must not block for good.
      entry.probeUntil = now + Math.min(this.#initialMs, MAX_PROBE_MS);
      return undefined;
    }
    return { refusal: entry.refusal, retryInMs: waitUntil - now };
  }

  /** Before a token request (reconciles, sweeps): the refusal while the pause lasts. */
  paused(key: string): Error | undefined {
    const entry = this.#entries.get(key);
    return entry && this.#now() < entry.until ? entry.refusal : undefined;
  }

  /** Entra ID refused the identity; a refusal within the current pause is the same round. */
  refused(key: string, refusal: Error, source?: IdentitySource): void {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && now < entry.until) {
      entry.refusal = refusal;
      return;
    }
    const refusals = (entry?.refusals ?? 0) + 1;
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** (refusals - 1));
    const pause = base * (1 + this.#jitter * (2 * this.#random() - 1));
    this.#entries.set(key, {
      refusals,
      refusal,
      source,
      until: now + pause,
      probeUntil: 0,
    });
    this.#onRefused?.(source);
    this.#onRefusedChanged?.();
  }

  /** Entra ID issued a token: the identity works. */
  succeeded(key: string): void {
    if (!this.#entries.has(key)) return;
    this.#entries.delete(key);
    this.#onRefusedChanged?.();
  }

  /** The ServiceAccount or Secret changed: identities paused because of it try again at once. */
  sourceChanged(source: IdentitySource): void {
    const changed = this.#entries.keys().filter((key) => {
      const entry = this.#entries.get(key);
      return entry?.source !== undefined && sameSource(entry.source, source);
    });
    for (const key of changed) this.#entries.delete(key);
    if (changed.length > 0) this.#onRefusedChanged?.();
  }

  /** Where the identities remembered as refused (until a token is granted) come from, each once. */
  refusedSources(kind: IdentitySource['kind']): IdentitySource[] {
    const sources = new Map<string, IdentitySource>();
    // Reading every key in order keeps their order of use.
    for (const key of this.#entries.keys()) {
      const source = this.#entries.get(key)?.source;
      if (source?.kind === kind) sources.set(`${source.namespace}/${source.name}`, source);
    }
    return [...sources.values()];
  }
}

function sameSource(a: IdentitySource, b: IdentitySource): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
