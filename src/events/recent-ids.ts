// Event Grid delivers at least once: the ids of recently handled events, bounded, oldest evicted
// first. A duplicate older than the window is harmless: reconcile reads the latest version anyway.
import { LruCache } from '../runtime/lru-cache.ts';

export class RecentIds {
  private readonly ids: LruCache<string, true>;

  constructor(capacity = 4096) {
    this.ids = new LruCache(capacity);
  }

  has(id: string): boolean {
    return this.ids.get(id) !== undefined;
  }

  /** Re-adding moves the id to the young end, so a burst of duplicates keeps it in. */
  add(id: string): void {
    this.ids.set(id, true);
  }

  get size(): number {
    return this.ids.size;
  }
}
