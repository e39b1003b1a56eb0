/**
 * Choosing the next token from logits, as pure functions: greedy at temperature 0, else softmax at
 * the temperature restricted to the top-k tokens and then to the smallest set whose probability
 * reaches top-p (nucleus sampling), drawn with a seeded generator so a seed repeats its text.
 */

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); higher flattens the distribution. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the most likely tokens until their probability reaches p; 1 keeps all. */
  topP: number;
}

/** The index of the largest value; the lowest index wins a tie, so greedy decoding is deterministic. */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) {
    if (values[index] > values[best]) {
      best = index;
    }
  }
  return best;
}

/**
 * The tokens that may be drawn with their probabilities (summing to 1), most likely first, after
 * temperature, top-k and top-p. Temperature must be > 0.
 */
export function candidateDistribution(
  logits: ArrayLike<number>,
  options: SamplingOptions,
): { tokens: number[]; probabilities: number[] } {
  const order = Array.from({ length: logits.length }, (_, index) => index).sort(
    (a, b) => logits[b] - logits[a] || a - b,
  );
  const kept = options.topK > 0 ? order.slice(0, options.topK) : order;
  const top = logits[kept[0]] / options.temperature;
  const weights = kept.map((token) => Math.exp(logits[token] / options.temperature - top));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let probabilities = weights.map((weight) => weight / total);
  let count = probabilities.length;
  if (options.topP < 1) {
    let cumulative = 0;
    count = 0;
    // The token that crosses p stays in: the nucleus is never empty.
    while (count < probabilities.length && cumulative < options.topP) {
      cumulative += probabilities[count];
      count += 1;
    }
    const kept = probabilities.slice(0, count);
    const keptTotal = kept.reduce((sum, value) => sum + value, 0);
    probabilities = kept.map((value) => value / keptTotal);
  }
  return { tokens: kept.slice(0, count), probabilities };
}

/** The next token: greedy at temperature 0, else one draw of `random()` (uniform in [0, 1)) from the candidates. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (options.temperature === 0) {
    return argMax(logits);
  }
  const { tokens, probabilities } = candidateDistribution(logits, options);
  const draw = random();
  let cumulative = 0;
  for (let index = 0; index < tokens.length; index += 1) {
    cumulative += probabilities[index];
    if (draw < cumulative) {
      return tokens[index];
    }
  }
  // Rounding can leave the sum a hair under 1.
  return tokens[tokens.length - 1];
}

/**
 * Where the earliest stop sequence starts in `text`, searching from `from` (characters already
 * checked, less the longest stop sequence, so one split across tokens is still found); -1 if none.
 */
export function findStop(text: string, stopSequences: readonly string[], from = 0): number {
  let earliest = -1;
  for (const stop of stopSequences) {
    if (stop.length === 0) {
      continue;
    }
    const at = text.indexOf(stop, Math.max(0, from - stop.length + 1));
    if (at >= 0 && (earliest < 0 || at < earliest)) {
      earliest = at;
    }
  }
  return earliest;
}

/**
 * How much of `text` can be shown while more tokens may still come: everything before a suffix
 * that could be the start of a stop sequence (it would be cut if the sequence completes).
 */
export function safePrefixLength(text: string, stopSequences: readonly string[]): number {
  let safe = text.length;
  for (const stop of stopSequences) {
    for (let length = Math.min(stop.length - 1, text.length); length > 0; length -= 1) {
      if (text.endsWith(stop.slice(0, length))) {
        safe = Math.min(safe, text.length - length);
        break;
      }
    }
  }
  return safe;
}
