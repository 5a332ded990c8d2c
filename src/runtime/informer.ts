// A list-then-watch informer that does not stop. client-node's ListWatch relists on 410 but gives
// up on any other error and cannot tell a silent watch from a quiet one; here one loop per watched
// namespace lists, watches from the list's resourceVersion with bookmarks, relists on 410 Gone,
// restarts with jittered backoff (0.8 s doubling to 30 s) after errors and ended streams, restarts
// a watch that has been silent too long, and relists periodically to heal anything missed.
// Handlers receive keys only: reconcilers re-read the store (level-triggered). A transform may
// keep less of each object than was sent (see store.ts).

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError } from './kube-http.ts';
import {
  kubeListWatch,
  type ListWatchSource,
  type ResourceType,
  type WatchEvent,
} from './list-watch.ts';
import { objectKey, Store, type ReadonlyStore, type TransformOption } from './store.ts';
import { jittered, sleep, systemTimers, type TimerHandle, type Timers } from './timers.ts';

export type RestartReason = 'gone' | 'closed' | 'stalled' | 'error' | 'relist';

export type InformerStatus =
  | { phase: 'listed'; namespace: string | undefined; objects: number }
  | {
      phase: 'restarting';
      namespace: string | undefined;
      reason: RestartReason;
      delayMs: number;
      error?: unknown;
    };

export type InformerOptions<T, S = T> = InformerSettings<T> & TransformOption<T, S>;

interface InformerSettings<T> {
  source: ListWatchSource<T>;
  /** Namespaces to watch, one list/watch each; empty or absent means all namespaces. */
  namespaces?: string[];
  labelSelector?: string;
  /** E.g. `metadata.name=x`: watch one object by name. */
  fieldSelector?: string;
  /** Relist this often (plus up to 10% jitter), to heal missed events. Default 15 min. */
  relistIntervalMs?: number;
  /** Restart a list or watch that delivered nothing (not even a bookmark) this long. Default 3 min. */
  stallTimeoutMs?: number;
  /** First restart delay, doubled per consecutive failure up to `maxBackoffMs`. Default 800 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pageSize?: number;
  timers?: Timers;
  random?: () => number;
  /** Lists and restarts, for logs and metrics. Must not throw. */
  onStatus?: (status: InformerStatus) => void;
}

const defaults = {
  relistIntervalMs: 15 * 60_000,
  stallTimeoutMs: 3 * 60_000,
  initialBackoffMs: 800,
  maxBackoffMs: 30_000,
  pageSize: 500,
  backoffJitter: 0.2,
  // As client-go's reflector backoff: a restart this long after the previous one starts over.
  backoffResetMs: 2 * 60_000,
  relistJitter: 0.1,
  // client-go's reflector asks the server to end each watch after 5 to 10 minutes.
  minWatchTimeoutSeconds: 300,
};

type Settings = Required<
  Omit<InformerSettings<unknown>, 'source' | 'namespaces' | 'labelSelector' | 'fieldSelector'>
> & {
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
};

export class Informer<T extends KubernetesObject, S extends KubernetesObject = T> {
  readonly #store: Store<T, S>;
  readonly #settings: Settings;
  readonly #reflectors: Array<Reflector<T, S>>;
  readonly #handlers = new Set<(key: string) => void>();
  readonly #stop = new AbortController();
  #syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #running: Array<Promise<void>> = [];
  #started = false;

  constructor(options: InformerOptions<T, S>) {
    this.#store = new Store<T, S>(options);
    this.#settings = {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      relistIntervalMs: options.relistIntervalMs ?? defaults.relistIntervalMs,
      stallTimeoutMs: options.stallTimeoutMs ?? defaults.stallTimeoutMs,
      initialBackoffMs: options.initialBackoffMs ?? defaults.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? defaults.maxBackoffMs,
      pageSize: options.pageSize ?? defaults.pageSize,
      timers: options.timers ?? systemTimers,
      random: options.random ?? Math.random,
      onStatus: (status) => {
        try {
          options.onStatus?.(status);
        } catch {
          // A broken log or metrics hook must not end the watch loop.
        }
      },
    };
    const namespaces = [...new Set(options.namespaces ?? [])];
    const scopes = namespaces.length > 0 ? namespaces : [undefined];
    this.#reflectors = scopes.map(
      (namespace) =>
        new Reflector<T, S>(namespace, options.source, this.#settings, this.#store, {
          changed: (keys) => this.#notify(keys),
          synced: () => this.#checkSynced(),
        }),
    );
  }

  /** The cache; only this informer writes to it. */
  get store(): ReadonlyStore<S> {
    return this.#store;
  }

  /** Calls `handler` with the key of every object added, changed or deleted. */
  onChange(handler: (key: string) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  start(): void {
    if (this.#started) throw new Error('informer already started');
    this.#started = true;
    this.#running = this.#reflectors.map((reflector) => reflector.run(this.#stop.signal));
  }

  /** Stops every list and watch; resolves once they have ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error('informer stopped before it synced'));
    await Promise.all(this.#running);
  }

  /** True once every namespace has been listed. */
  hasSynced(): boolean {
    return this.#reflectors.every((reflector) => reflector.synced);
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    if (this.#stop.signal.aborted) {
      return Promise.reject(new Error('informer stopped before it synced'));
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        this.#syncWaiters = this.#syncWaiters.filter((waiter) => waiter !== entry);
        reject(signal?.reason as Error);
      };
      const entry = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#syncWaiters.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #checkSynced(): void {
    if (!this.hasSynced()) return;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #notify(keys: string[]): void {
    for (const key of keys) {
      for (const handler of this.#handlers) {
        try {
          handler(key);
        } catch {
          // A handler only enqueues; one that throws must not break the watch.
        }
      }
    }
  }
}

/** Builds an informer over a Kubernetes resource, e.g. `{ apiVersion: 'v1', plural: 'secrets' }`. */
export function kubeInformer<T extends KubernetesObject, S extends KubernetesObject = T>(
  kubeConfig: KubeConfig,
  resource: ResourceType,
  options: Omit<InformerSettings<T>, 'source'> & TransformOption<T, S>,
): Informer<T, S> {
  return new Informer<T, S>({ ...options, source: kubeListWatch<T>(kubeConfig, resource) });
}

/** Why the current list or watch was cut short by the informer itself. */
class Restart {
  readonly reason: RestartReason | 'stopped';
  readonly cause: unknown;
  constructor(reason: RestartReason | 'stopped', cause?: unknown) {
    this.reason = reason;
    this.cause = cause;
  }
}

interface ReflectorHooks {
  changed(keys: string[]): void;
  synced(): void;
}

/** The list/watch loop for one namespace (or all of them). */
class Reflector<T extends KubernetesObject, S extends KubernetesObject> {
  readonly #namespace: string | undefined;
  readonly #settings: Settings;
  readonly #source: ListWatchSource<T>;
  readonly #store: Store<T, S>;
  readonly #hooks: ReflectorHooks;
  /** Where the next watch starts; undefined means list first. */
  #resourceVersion: string | undefined;
  /** Consecutive restarts without progress; drives the backoff. */
  #failures = 0;
  #lastRestartAt = -Infinity;
  #relistDue = false;
  #attempt: AbortController | undefined;
  #stallTimer: TimerHandle;
  #relistTimer: TimerHandle;
  synced = false;

  constructor(
    namespace: string | undefined,
    source: ListWatchSource<T>,
    settings: Settings,
    store: Store<T, S>,
    hooks: ReflectorHooks,
  ) {
    this.#namespace = namespace;
    this.#settings = settings;
    this.#source = source;
    this.#store = store;
    this.#hooks = hooks;
  }

  async run(stop: AbortSignal): Promise<void> {
    const timers = this.#settings.timers;
    try {
      while (!stop.aborted) {
        if (this.#relistDue) {
          this.#relistDue = false;
          this.#resourceVersion = undefined;
        }
        const { reason, error } = await this.#attemptOnce(stop);
        if (reason === 'stopped') return;
        if (reason === 'gone' || reason === 'relist') this.#resourceVersion = undefined;
        const delayMs = this.#restartDelay(reason);
        this.#settings.onStatus({
          phase: 'restarting',
          namespace: this.#namespace,
          reason,
          delayMs,
          ...(error === undefined ? {} : { error }),
        });
        if (delayMs > 0) await sleep(timers, delayMs, stop).catch(() => {});
      }
    } finally {
      timers.clearTimeout(this.#relistTimer);
      timers.clearTimeout(this.#stallTimer);
    }
  }

  /** One list (when needed) and one watch; returns why it ended. */
  async #attemptOnce(stop: AbortSignal): Promise<{ reason: Restart['reason']; error?: unknown }> {
    const attempt = new AbortController();
    this.#attempt = attempt;
    const onStop = (): void => attempt.abort(new Restart('stopped'));
    stop.addEventListener('abort', onStop, { once: true });
    let ended: { reason: Restart['reason']; error?: unknown } = { reason: 'closed' };
    try {
      this.#resetStallTimer(attempt);
      if (this.#resourceVersion === undefined) await this.#list(attempt);
      await this.#source.watch(
        {
          namespace: this.#namespace,
          labelSelector: this.#settings.labelSelector,
          fieldSelector: this.#settings.fieldSelector,
          resourceVersion: this.#resourceVersion ?? '',
          timeoutSeconds: Math.floor(
            defaults.minWatchTimeoutSeconds * (1 + this.#settings.random()),
          ),
          signal: attempt.signal,
        },
        (event) => this.#onWatchEvent(event, attempt),
      );
    } catch (error) {
      ended = { reason: isGone(error) ? 'gone' : 'error', error };
    } finally {
      stop.removeEventListener('abort', onStop);
      this.#settings.timers.clearTimeout(this.#stallTimer);
      this.#attempt = undefined;
    }
    const cut: unknown = attempt.signal.reason;
    if (attempt.signal.aborted && cut instanceof Restart) {
      return cut.cause === undefined
        ? { reason: cut.reason }
        : { reason: cut.reason, error: cut.cause };
    }
    return ended;
  }

  async #list(attempt: AbortController): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.#source.list({
        namespace: this.#namespace,
        labelSelector: this.#settings.labelSelector,
        fieldSelector: this.#settings.fieldSelector,
        limit: this.#settings.pageSize,
        continueToken,
        signal: attempt.signal,
      });
      this.#resetStallTimer(attempt);
      items.push(...page.items);
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken);
    attempt.signal.throwIfAborted(); // an answer that arrived after the cut-off is not trusted
    const namespacePrefix = this.#namespace === undefined ? '' : `${this.#namespace}/`;
    const changed = this.#store.replace(items, (key) => key.startsWith(namespacePrefix));
    this.#resourceVersion = resourceVersion;
    this.#armRelist();
    this.#settings.onStatus({ phase: 'listed', namespace: this.#namespace, objects: items.length });
    this.#hooks.changed(changed);
    if (!this.synced) {
      this.synced = true;
      this.#hooks.synced();
    }
  }

  #onWatchEvent(event: WatchEvent<T>, attempt: AbortController): void {
    if (attempt.signal.aborted) return;
    if (event.type === 'ERROR') {
      const status = event.object;
      const error = new KubeApiError(
        status.code ?? 500,
        status.message ?? 'watch error',
        status.reason,
      );
      attempt.abort(new Restart(isGone(error) ? 'gone' : 'error', error));
      return;
    }
    this.#resetStallTimer(attempt);
    this.#failures = 0;
    const object = event.object;
    let changed: string | undefined;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') {
      changed = this.#store.upsert(object);
    } else if (event.type === 'DELETED') {
      const key = objectKey(object);
      if (this.#store.delete(key)) changed = key;
    }
    const version = object.metadata?.resourceVersion;
    if (version) this.#resourceVersion = version;
    if (changed !== undefined) this.#hooks.changed([changed]);
  }

  #restartDelay(reason: RestartReason): number {
    if (reason === 'relist') return 0;
    const { initialBackoffMs, maxBackoffMs, random, timers } = this.#settings;
    const now = timers.now();
    if (now - this.#lastRestartAt > defaults.backoffResetMs) this.#failures = 0;
    this.#lastRestartAt = now;
    const failures = this.#failures++;
    // After a healthy watch, a 410 only means "relist": do it at once. Repeated ones back off.
    if (reason === 'gone' && failures === 0) return 0;
    const base = Math.min(initialBackoffMs * 2 ** failures, maxBackoffMs);
    return Math.round(jittered(base, defaults.backoffJitter, random));
  }

  #resetStallTimer(attempt: AbortController): void {
    const { timers, stallTimeoutMs } = this.#settings;
    timers.clearTimeout(this.#stallTimer);
    this.#stallTimer = timers.setTimeout(
      () => attempt.abort(new Restart('stalled')),
      stallTimeoutMs,
    );
  }

  #armRelist(): void {
    const { timers, relistIntervalMs, random } = this.#settings;
    timers.clearTimeout(this.#relistTimer);
    const delay = relistIntervalMs * (1 + defaults.relistJitter * random());
    this.#relistTimer = timers.setTimeout(() => {
      this.#relistDue = true;
      this.#attempt?.abort(new Restart('relist'));
    }, delay);
  }
}

function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 410;
}
