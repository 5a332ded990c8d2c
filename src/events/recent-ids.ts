// Event Grid delivers at least once: the ids of recently handled events, bounded, oldest evicted
// first. A duplicate older than the window is harmless: reconcile reads the latest version anyway.
export class RecentIds {
  private readonly capacity: number;
  private readonly ids = new Map<string, true>();

  constructor(capacity = 4096) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
    this.capacity = capacity;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    // Re-inserting moves the id to the young end, so a burst of duplicates keeps it in.
    this.ids.delete(id);
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next().value as string;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
