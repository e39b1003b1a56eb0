/**
 * Loaded models kept by a worker, least recently used first out, bounded by bytes: a model joins
 * only after older ones are disposed to make room, so the bound holds while it is in memory. A
 * model larger than the whole bound is still served, alone.
 */
export interface Cacheable {
  readonly sizeBytes: number;
  dispose(): void;
}

export class ModelCache<T extends Cacheable> {
  /** Insertion order is recency order: a hit moves the entry to the end. */
  private readonly entries = new Map<string, T>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Frees room for `sizeBytes` (oldest first) before a model of that size is loaded. */
  makeRoom(sizeBytes: number): string[] {
    const evicted: string[] = [];
    for (const [key, entry] of this.entries) {
      if (this.bytes + sizeBytes <= this.maxBytes) {
        break;
      }
      this.entries.delete(key);
      this.bytes -= entry.sizeBytes;
      entry.dispose();
      evicted.push(key);
    }
    return evicted;
  }

  /** Adds a loaded model, evicting the least recently used until it fits; returns the evicted keys. */
  set(key: string, value: T): string[] {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.bytes -= previous.sizeBytes;
      if (previous !== value) {
        previous.dispose();
      }
    }
    const evicted = this.makeRoom(value.sizeBytes);
    this.entries.set(key, value);
    this.bytes += value.sizeBytes;
    return evicted;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  clear(): void {
    for (const entry of this.entries.values()) {
      entry.dispose();
    }
    this.entries.clear();
    this.bytes = 0;
  }
}
