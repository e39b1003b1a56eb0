/**
 * A binary min-heap of (first, second) number pairs, ordered by first then second. Parallel arrays
 * rather than objects: BPE pushes millions of entries and allocates nothing per entry this way.
 */
export class PairHeap {
  private firsts: number[] = [];
  private seconds: number[] = [];

  get size(): number {
    return this.firsts.length;
  }

  /** The smallest entry's first number (size must be > 0). */
  get first(): number {
    return this.firsts[0];
  }

  /** The smallest entry's second number (size must be > 0). */
  get second(): number {
    return this.seconds[0];
  }

  push(first: number, second: number): void {
    const { firsts, seconds } = this;
    let index = firsts.length;
    firsts.push(first);
    seconds.push(second);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (firsts[parent] < first || (firsts[parent] === first && seconds[parent] <= second)) {
        break;
      }
      firsts[index] = firsts[parent];
      seconds[index] = seconds[parent];
      index = parent;
    }
    firsts[index] = first;
    seconds[index] = second;
  }

  /** Removes the smallest entry (size must be > 0). */
  pop(): void {
    const { firsts, seconds } = this;
    const lastFirst = firsts.pop() as number;
    const lastSecond = seconds.pop() as number;
    const size = firsts.length;
    if (size === 0) {
      return;
    }
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) {
        break;
      }
      const right = child + 1;
      if (
        right < size &&
        (firsts[right] < firsts[child] || (firsts[right] === firsts[child] && seconds[right] < seconds[child]))
      ) {
        child = right;
      }
      if (lastFirst < firsts[child] || (lastFirst === firsts[child] && lastSecond <= seconds[child])) {
        break;
      }
      firsts[index] = firsts[child];
      seconds[index] = seconds[child];
      index = child;
    }
    firsts[index] = lastFirst;
    seconds[index] = lastSecond;
  }
}
