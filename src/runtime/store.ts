// The informer's cache: one writer (the informer), any number of readers. Readers get the
// ReadonlyStore view; objects are frozen so a reader that mutates a cached object fails loudly
// instead of corrupting what every other reader sees. A transform may keep less of each object
// than the API server sent (kvsync's Secrets are kept without their values).

import type { KubernetesObject } from '@kubernetes/client-node';

export interface ReadonlyStore<T> {
  /** The object under `namespace/name` (or `name` when cluster-scoped). */
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  readonly size: number;
}

export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a `namespace/name` key; cluster-scoped keys have no namespace. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * What the store keeps of each object listed or watched, made once per resourceVersion: needed
 * unless it keeps the objects as they come.
 */
export type TransformOption<T, S> = [T] extends [S]
  ? { transform?: (object: T) => S }
  : { transform: (object: T) => S };

/** Objects of type T come in; what the transform makes of them (S) is kept. */
export class Store<
  T extends KubernetesObject,
  S extends KubernetesObject = T,
> implements ReadonlyStore<S> {
  readonly #objects = new Map<string, S>();
  readonly #transform: (object: T) => S;

  constructor(options: TransformOption<T, S>) {
    // Without a transform T is an S (TransformOption).
    this.#transform = options.transform ?? ((object) => object as unknown as S);
  }

  get size(): number {
    return this.#objects.size;
  }

  get(key: string): S | undefined {
    return this.#objects.get(key);
  }

  list(): S[] {
    return [...this.#objects.values()];
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  /** Stores `object` and returns its key, or `undefined` when this version is already stored. */
  upsert(object: T): string | undefined {
    const key = objectKey(object);
    const stored = this.#objects.get(key);
    const version = object.metadata?.resourceVersion;
    if (stored && version !== undefined && stored.metadata?.resourceVersion === version) {
      return undefined;
    }
    this.#objects.set(key, prepare(this.#transform(object)));
    return key;
  }

  /** Removes the object and returns its last stored state. */
  delete(key: string): S | undefined {
    const stored = this.#objects.get(key);
    this.#objects.delete(key);
    return stored;
  }

  /**
   * Makes the keys for which `inScope` holds match `objects` (a fresh list), and returns the keys
   * that were added, changed or removed. Keys out of scope belong to another namespace's list.
   */
  replace(objects: T[], inScope: (key: string) => boolean): string[] {
    const changed: string[] = [];
    const listed = new Set<string>();
    for (const object of objects) {
      const key = this.upsert(object);
      listed.add(objectKey(object));
      if (key !== undefined) changed.push(key);
    }
    for (const key of this.#objects.keys()) {
      if (inScope(key) && !listed.has(key)) {
        this.#objects.delete(key);
        changed.push(key);
      }
    }
    return changed;
  }
}

/** Drops managedFields (large, never read by a controller) and freezes the object. */
function prepare<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields !== undefined) {
    const metadata = { ...object.metadata };
    delete metadata.managedFields;
    object = { ...object, metadata };
  }
  return deepFreeze(object);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
