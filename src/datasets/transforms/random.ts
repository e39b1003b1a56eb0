/**
 * Seeded pseudo-random numbers for the transforms (Math.random is never used: the same spec must
 * give the same bytes). mulberry32 over a splitmix32-scrambled seed, so nearby seeds give unrelated
 * streams.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  int(bound: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Fisher-Yates, in place; returns the array. */
  shuffle<T>(items: T[]): T[];
}

function splitmix32(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export function createRandom(seed: number): Random {
  let state = splitmix32(seed >>> 0);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (bound: number): number => Math.floor(next() * bound);
  return {
    next,
    int,
    normal: () => {
      // 1 - u is in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      return radius * Math.cos(2 * Math.PI * next());
    },
    shuffle: <T>(items: T[]): T[] => {
      for (let index = items.length - 1; index > 0; index -= 1) {
        const other = int(index + 1);
        const held = items[index];
        items[index] = items[other];
        items[other] = held;
      }
      return items;
    },
  };
}
