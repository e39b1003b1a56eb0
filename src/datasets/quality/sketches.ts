/**
 * Bounded, allocation-free data structures of the quality profiler. Hashes come as two 32-bit lanes
 * (`high`, `low`), the halves of text.ts's hash52: `hash52 = (high >>> 0) * 2^20 + (low & 0xfffff)`.
 * Open addressing over typed arrays rather than Map: no per-entry objects, a known size in bytes,
 * and one cache line per probe.
 */

const TWO_POW_20 = 0x100000;

/**
 * MurmurHash3's 32-bit finaliser: spreads every input bit over the result. Returns an int32 (not
 * `>>> 0`): V8 keeps int32s unboxed, while a uint32 above 2^31 passed around becomes a heap number.
 */
export function mix32(value: number): number {
  let hash = value | 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

/** The 52-bit number of a pair of lanes (what hash52 returns for the same text). */
export function laneKey(high: number, low: number): number {
  return (high >>> 0) * TWO_POW_20 + (low & 0xfffff);
}

/** The lanes of a 52-bit hash: [high, low]. */
export function keyLanes(key: number): [number, number] {
  const high = Math.floor(key / TWO_POW_20);
  return [high, key - high * TWO_POW_20];
}

function slotOf(high: number, low: number, mask: number): number {
  return mix32(high ^ Math.imul(low, 0x9e3779b1)) & mask;
}

/** HyperLogLog with 2^14 registers (16 KiB, standard error about 0.8%). */
export class HyperLogLog {
  static readonly PRECISION = 14;
  /** Public for hot loops that inline `addMixed`. */
  readonly registers = new Uint8Array(1 << HyperLogLog.PRECISION);

  add(high: number, low: number): void {
    this.addMixed(mix32(high ^ Math.imul(low, 0xcc9e2d51)), mix32(Math.imul(high, 0x1b873593) ^ low ^ 0x5bd1e995));
  }

  /** Adds a hash whose two 32-bit halves are already well mixed (every bit random-looking). */
  addMixed(first: number, second: number): void {
    const index = first >>> (32 - HyperLogLog.PRECISION);
    const rank = Math.clz32(second) + 1;
    if (rank > this.registers[index]) {
      this.registers[index] = rank;
    }
  }

  estimate(): number {
    const registers = this.registers;
    const count = registers.length;
    let sum = 0;
    let zeros = 0;
    for (let index = 0; index < count; index += 1) {
      sum += 2 ** -registers[index];
      if (registers[index] === 0) {
        zeros += 1;
      }
    }
    const alpha = 0.7213 / (1 + 1.079 / count);
    const raw = (alpha * count * count) / sum;
    if (raw <= 2.5 * count && zeros > 0) {
      // Linear counting is the better estimate while many registers are empty.
      return count * Math.log(count / zeros);
    }
    return raw;
  }

  get bytes(): number {
    return this.registers.byteLength;
  }
}

/** A set of 64-bit hashes given as two 32-bit lanes (open addressing, linear probing). */
export class LaneSet {
  private lanes: Int32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    this.allocate(nextPowerOfTwo(Math.max(16, initialCapacity)));
  }

  /** Adds the hash; true when it was not there yet. */
  add(high: number, low: number): boolean {
    high |= 0;
    low |= 0;
    let slot = slotOf(high, low, this.mask);
    for (;;) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.lanes[slot << 1] = high;
        this.lanes[(slot << 1) + 1] = low;
        this.size += 1;
        if (this.size * 2 > this.used.length) {
          this.grow();
        }
        return true;
      }
      if (this.lanes[slot << 1] === high && this.lanes[(slot << 1) + 1] === low) {
        return false;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  has(high: number, low: number): boolean {
    high |= 0;
    low |= 0;
    let slot = slotOf(high, low, this.mask);
    while (this.used[slot] !== 0) {
      if (this.lanes[slot << 1] === high && this.lanes[(slot << 1) + 1] === low) {
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
    return false;
  }

  /** Calls `visit` with the lanes of every member. */
  forEach(visit: (high: number, low: number) => void): void {
    for (let slot = 0; slot < this.used.length; slot += 1) {
      if (this.used[slot] !== 0) {
        visit(this.lanes[slot << 1], this.lanes[(slot << 1) + 1]);
      }
    }
  }

  get bytes(): number {
    return this.lanes.byteLength + this.used.byteLength;
  }

  private allocate(capacity: number): void {
    this.lanes = new Int32Array(capacity * 2);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  private grow(): void {
    const { lanes, used } = this;
    this.allocate(used.length * 2);
    this.size = 0;
    for (let slot = 0; slot < used.length; slot += 1) {
      if (used[slot] !== 0) {
        this.add(lanes[slot << 1], lanes[(slot << 1) + 1]);
      }
    }
  }
}

/**
 * Distinct count of well-mixed hashes: exact up to `exactCap` members, then HyperLogLog (the set
 * is dropped).
 */
export class DistinctCounter {
  /** The exact set while it lasts; then undefined, and only `sketch` counts (hot loops may add to it directly). */
  set: LaneSet | undefined = new LaneSet();
  readonly sketch = new HyperLogLog();

  constructor(private readonly exactCap: number) {}

  add(first: number, second: number): void {
    if (this.set === undefined) {
      this.sketch.addMixed(first, second);
    } else if (this.set.add(first, second) && this.set.size > this.exactCap) {
      this.set.forEach((setFirst, setSecond) => this.sketch.addMixed(setFirst, setSecond));
      this.set = undefined;
    }
  }

  get exact(): boolean {
    return this.set !== undefined;
  }

  estimate(): number {
    return this.set ? this.set.size : Math.round(this.sketch.estimate());
  }

  get bytes(): number {
    return (this.set?.bytes ?? 0) + this.sketch.bytes;
  }
}

const DUPLICATED = 1;
const CONFLICTED = 2;
const FLAG_SPACE = 4;
const LINE_SPACE = 2 ** 32;
/** Class keys packed beside the line: below 2^17. */
export const MAX_PACKED_LABEL = 2 ** 17;

/** What the exact-duplicate index keeps of each input's first label. */
export type LabelKeyKind = 'none' | 'class' | 'number';

/**
 * The exact-duplicate index: normalised-input hash → first line, flags and (for label conflicts) the
 * first label's key. One Float64Array, a slot per entry: [hash + 1 (0: free), (label·2^32 + line)·4 +
 * flags], plus the label as a float for 'number' labels. One cache line per probe.
 * 16 bytes per slot (24 for 'number' labels); the table doubles at 3/4 load, so 1.33–2.67 slots
 * per distinct input: 21–43 bytes each (32–64 for 'number' labels).
 */
export class ExactDuplicateIndex {
  private slots: Float64Array;
  private readonly stride: number;
  private mask: number;
  /** Distinct inputs. */
  size = 0;

  constructor(
    private readonly labels: LabelKeyKind,
    initialCapacity = 1024,
  ) {
    this.stride = labels === 'number' ? 3 : 2;
    this.allocate(nextPowerOfTwo(Math.max(16, initialCapacity)));
  }

  /**
   * Inserts the input; returns -1 when it is new, else the slot of its first occurrence. `labelKey`:
   * an integer below MAX_PACKED_LABEL for 'class', any number for 'number', ignored for 'none'.
   */
  findOrInsert(high: number, low: number, line: number, labelKey: number): number {
    // Only the 52 bits of the key take part, so that growth (from the stored key) finds the same slots.
    low &= 0xfffff;
    const stored = laneKey(high, low) + 1;
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    let slot = slotOf(high, low, mask);
    for (;;) {
      const existing = slots[slot * stride];
      if (existing === 0) {
        break;
      }
      if (existing === stored) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
    const base = slot * stride;
    slots[base] = stored;
    slots[base + 1] = ((this.labels === 'class' ? labelKey * LINE_SPACE : 0) + line) * FLAG_SPACE;
    if (stride === 3) {
      slots[base + 2] = labelKey;
    }
    this.size += 1;
    if (this.size * 4 > (slots.length / stride) * 3) {
      this.grow();
    }
    return -1;
  }

  firstLine(slot: number): number {
    return Math.floor(this.slots[slot * this.stride + 1] / FLAG_SPACE) % LINE_SPACE;
  }

  firstLabel(slot: number): number {
    switch (this.labels) {
      case 'none':
        return 0;
      case 'class':
        return Math.floor(this.slots[slot * 2 + 1] / (FLAG_SPACE * LINE_SPACE));
      case 'number':
        return this.slots[slot * 3 + 2];
      default: {
        const unreachable: never = this.labels;
        throw new Error(`unknown label kind ${String(unreachable)}`);
      }
    }
  }

  /** The key of a slot (stable across growth, unlike the slot). */
  keyAt(slot: number): number {
    return this.slots[slot * this.stride];
  }

  /** Marks the slot's input as duplicated; true the first time (a new duplicate group). */
  markDuplicated(slot: number): boolean {
    return this.mark(slot, DUPLICATED);
  }

  /** Marks the slot's input as carrying conflicting labels; true the first time. */
  markConflicted(slot: number): boolean {
    return this.mark(slot, CONFLICTED);
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  private mark(slot: number, flag: number): boolean {
    const index = slot * this.stride + 1;
    const value = this.slots[index];
    if (((value % FLAG_SPACE) & flag) !== 0) {
      return false;
    }
    this.slots[index] = value + flag;
    return true;
  }

  private allocate(capacity: number): void {
    this.slots = new Float64Array(capacity * this.stride);
    this.mask = capacity - 1;
  }

  private grow(): void {
    const old = this.slots;
    const stride = this.stride;
    this.allocate((old.length / stride) * 2);
    for (let base = 0; base < old.length; base += stride) {
      if (old[base] === 0) {
        continue;
      }
      const [high, low] = keyLanes(old[base] - 1);
      let slot = slotOf(high, low, this.mask);
      while (this.slots[slot * stride] !== 0) {
        slot = (slot + 1) & this.mask;
      }
      this.slots.set(old.subarray(base, base + stride), slot * stride);
    }
  }
}

/** Flag of a vocabulary entry whose token is in the reference's token table. */
export const IN_REFERENCE = 1;

/**
 * Token counts, bounded at `cap` distinct tokens. When full, the entries with the lowest counts
 * (at least half of them) are dropped, and their occurrences added to `prunedOccurrences`: the
 * frequent tokens keep counts that are exact or low by at most `maxPrunedCount`.
 * Layout: Int32Array, 4 per slot (high, low, count, flags + 2 [occupied]); strings alongside.
 */
export class TokenCounter {
  table: Int32Array;
  private strings: (string | undefined)[];
  private mask: number;
  private shift: number;
  size = 0;
  pruned = false;
  prunedOccurrences = 0;
  maxPrunedCount = 0;
  /** Called once, before the first pruning, with every token counted so far. */
  onFirstPrune: ((high: number, low: number) => void) | undefined;

  constructor(
    private readonly cap: number,
    initialCapacity = 1024,
  ) {
    this.allocate(nextPowerOfTwo(Math.max(16, Math.min(initialCapacity, cap * 2))));
  }

  /** The slot of a token (its count at `table[slot * 4 + 2]`), or -1. */
  find(high: number, low: number): number {
    high |= 0;
    low |= 0;
    const table = this.table;
    const mask = this.mask;
    // Fibonacci hashing (the product's high bits): token lanes are FNV hashes, whose low bits mix poorly.
    let slot = Math.imul(high ^ Math.imul(low, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
    for (;;) {
      const base = slot << 2;
      if (table[base + 3] === 0) {
        return -1;
      }
      if (table[base] === high && table[base + 1] === low) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Adds a token not counted yet, with count 0; returns its slot. Prunes or grows first if needed. */
  insert(high: number, low: number, token: string, flags: number): number {
    if (this.size >= this.cap) {
      this.prune();
    }
    if ((this.size + 1) * 2 > this.strings.length) {
      this.rebuild(this.strings.length * 2, 0);
    }
    const slot = this.freeSlot(high, low);
    const base = slot << 2;
    this.table[base] = high;
    this.table[base + 1] = low;
    this.table[base + 2] = 0;
    this.table[base + 3] = flags | 2;
    this.strings[slot] = token;
    this.size += 1;
    return slot;
  }

  /** Every counted token: its string, count and flags. */
  forEach(visit: (token: string, count: number, flags: number) => void): void {
    for (let slot = 0; slot < this.strings.length; slot += 1) {
      const token = this.strings[slot];
      if (token !== undefined) {
        visit(token, this.table[(slot << 2) + 2] >>> 0, this.table[(slot << 2) + 3] & ~2);
      }
    }
  }

  /** The count of a token given its lanes (0 when not counted). */
  countOf(high: number, low: number): number {
    const slot = this.find(high, low);
    return slot < 0 ? 0 : this.table[(slot << 2) + 2] >>> 0;
  }

  get bytes(): number {
    // The strings: an array slot, and about 16 + length bytes per token string.
    return this.table.byteLength + this.strings.length * 8 + this.size * 24;
  }

  private freeSlot(high: number, low: number): number {
    let slot = Math.imul(high ^ Math.imul(low, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
    while (this.table[(slot << 2) + 3] !== 0) {
      slot = (slot + 1) & this.mask;
    }
    return slot;
  }

  private prune(): void {
    if (!this.pruned) {
      this.pruned = true;
      this.forEachLanes((high, low) => this.onFirstPrune?.(high, low));
    }
    // The median count, from a histogram of counts (counts above 1023 share a bucket).
    const histogram = new Uint32Array(1024);
    for (let slot = 0; slot < this.strings.length; slot += 1) {
      if (this.strings[slot] !== undefined) {
        histogram[Math.min(1023, this.table[(slot << 2) + 2] >>> 0)] += 1;
      }
    }
    let seen = 0;
    let floor = 0;
    while (floor < 1023 && seen + histogram[floor] < this.size / 2) {
      seen += histogram[floor];
      floor += 1;
    }
    this.rebuild(this.strings.length, floor);
  }

  private forEachLanes(visit: (high: number, low: number) => void): void {
    for (let slot = 0; slot < this.strings.length; slot += 1) {
      if (this.strings[slot] !== undefined) {
        visit(this.table[slot << 2], this.table[(slot << 2) + 1]);
      }
    }
  }

  /** Reallocates with `capacity` slots, dropping the entries counted `floor` times or fewer. */
  private rebuild(capacity: number, floor: number): void {
    const { table, strings } = this;
    this.allocate(capacity);
    this.size = 0;
    for (let old = 0; old < strings.length; old += 1) {
      const token = strings[old];
      if (token === undefined) {
        continue;
      }
      const base = old << 2;
      const count = table[base + 2] >>> 0;
      if (count <= floor) {
        this.prunedOccurrences += count;
        this.maxPrunedCount = Math.max(this.maxPrunedCount, count);
        continue;
      }
      const slot = this.freeSlot(table[base], table[base + 1]);
      this.table.set(table.subarray(base, base + 4), slot << 2);
      this.strings[slot] = token;
      this.size += 1;
    }
  }

  private allocate(capacity: number): void {
    this.table = new Int32Array(capacity * 4);
    this.strings = new Array<string | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }
}

/** Length histogram over integers: exact up to `max - 1`, one shared bucket for `max` and above. */
export class LengthHistogram {
  private readonly counts: Uint32Array;
  rows = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  constructor(readonly limit: number) {
    this.counts = new Uint32Array(limit + 1);
  }

  add(length: number): void {
    this.counts[length < this.limit ? length : this.limit] += 1;
    this.rows += 1;
    this.sum += length;
    if (length < this.min) {
      this.min = length;
    }
    if (length > this.max) {
      this.max = length;
    }
  }

  /** Nearest-rank quantile (the smallest length with at least q·rows rows at or below it). */
  quantile(q: number): number {
    if (this.rows === 0) {
      return 0;
    }
    const rank = Math.max(1, Math.ceil(q * this.rows));
    let seen = 0;
    for (let length = 0; length < this.limit; length += 1) {
      seen += this.counts[length];
      if (seen >= rank) {
        return length;
      }
    }
    return this.max;
  }

  /** Rows with a length below `low` or above `high`. */
  countOutside(low: number, high: number): number {
    let count = 0;
    for (let length = 0; length < this.limit; length += 1) {
      if (length < low || length > high) {
        count += this.counts[length];
      }
    }
    // The shared top bucket holds lengths >= limit: all above `high` when high < limit.
    if (high < this.limit) {
      count += this.counts[this.limit];
    }
    return count;
  }

  get bytes(): number {
    return this.counts.byteLength;
  }
}

/**
 * The `capacity` rows with the largest values (ties: the earliest line), as a binary min-heap whose
 * root is the weakest kept row. Negate values to keep the smallest.
 */
export class ExtremeRows {
  private readonly values: Float64Array;
  private readonly lines: Float64Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.lines = new Float64Array(capacity);
  }

  offer(value: number, line: number): void {
    if (this.capacity === 0) {
      return;
    }
    if (this.size < this.capacity) {
      let index = this.size;
      this.size += 1;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!this.weaker(value, line, this.values[parent], this.lines[parent])) {
          break;
        }
        this.values[index] = this.values[parent];
        this.lines[index] = this.lines[parent];
        index = parent;
      }
      this.values[index] = value;
      this.lines[index] = line;
      return;
    }
    if (this.weaker(this.values[0], this.lines[0], value, line)) {
      this.siftDown(value, line);
    }
  }

  /** The kept rows as [value, line] pairs, in line order. */
  entries(): [number, number][] {
    const result: [number, number][] = [];
    for (let index = 0; index < this.size; index += 1) {
      result.push([this.values[index], this.lines[index]]);
    }
    return result.sort((left, right) => left[1] - right[1]);
  }

  get bytes(): number {
    return this.values.byteLength + this.lines.byteLength;
  }

  /** Whether (value, line) ranks below (otherValue, otherLine). */
  private weaker(value: number, line: number, otherValue: number, otherLine: number): boolean {
    return value < otherValue || (value === otherValue && line > otherLine);
  }

  private siftDown(value: number, line: number): void {
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= this.size) {
        break;
      }
      const right = left + 1;
      let child = left;
      if (
        right < this.size &&
        this.weaker(this.values[right], this.lines[right], this.values[left], this.lines[left])
      ) {
        child = right;
      }
      if (!this.weaker(this.values[child], this.lines[child], value, line)) {
        break;
      }
      this.values[index] = this.values[child];
      this.lines[index] = this.lines[child];
      index = child;
    }
    this.values[index] = value;
    this.lines[index] = line;
  }
}

export function nextPowerOfTwo(value: number): number {
  let result = 1;
  while (result < value) {
    result *= 2;
  }
  return result;
}
