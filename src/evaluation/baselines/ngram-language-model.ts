/**
 * The classical reference for language modelling: an interpolated trigram model with Witten-Bell
 * smoothing over the same tokens the model sees, backing off to bigrams and to an add-one unigram
 * over the whole vocabulary. Every distribution sums to 1, so its perplexity compares directly with
 * the model's on the same tokens.
 */
export class NgramLanguageModel {
  private readonly counts = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  /** Per history: how many times it was seen, and how many distinct tokens followed it. */
  private readonly histories = [new Map<string, HistoryStats>(), new Map<string, HistoryStats>()];
  private tokens = 0;

  constructor(private readonly vocabularySize: number) {
    if (!(vocabularySize > 0)) {
      throw new Error('the vocabulary size must be positive');
    }
  }

  /** Adds one sequence of token ids (a document); n-grams never cross sequences. */
  add(sequence: ArrayLike<number>): void {
    for (let i = 0; i < sequence.length; i++) {
      this.tokens++;
      increment(this.counts[0], String(sequence[i]));
      for (let order = 1; order <= 2 && i - order >= 0; order++) {
        const history = slice(sequence, i - order, i);
        const key = `${history}|${sequence[i]}`;
        const seen = increment(this.counts[order], key);
        const stats = this.histories[order - 1].get(history) ?? { total: 0, distinct: 0 };
        stats.total++;
        if (seen === 1) {
          stats.distinct++;
        }
        this.histories[order - 1].set(history, stats);
      }
    }
  }

  /** P(token | the up to two tokens before it in `sequence` at `position`). */
  probability(sequence: ArrayLike<number>, position: number): number {
    const token = sequence[position];
    let probability = ((this.counts[0].get(String(token)) ?? 0) + 1) / (this.tokens + this.vocabularySize);
    for (let order = 1; order <= 2 && position - order >= 0; order++) {
      const history = slice(sequence, position - order, position);
      const stats = this.histories[order - 1].get(history);
      if (!stats) {
        continue;
      }
      const count = this.counts[order].get(`${history}|${token}`) ?? 0;
      probability = (count + stats.distinct * probability) / (stats.total + stats.distinct);
    }
    return probability;
  }

  /** Summed negative log-likelihood (nats) and the number of tokens scored, over positions in [from, to). */
  score(sequence: ArrayLike<number>, from = 0, to = sequence.length): { lossSum: number; tokens: number } {
    let lossSum = 0;
    for (let position = from; position < to; position++) {
      lossSum -= Math.log(this.probability(sequence, position));
    }
    return { lossSum, tokens: Math.max(0, to - from) };
  }
}

interface HistoryStats {
  total: number;
  distinct: number;
}

function increment(map: Map<string, number>, key: string): number {
  const value = (map.get(key) ?? 0) + 1;
  map.set(key, value);
  return value;
}

function slice(sequence: ArrayLike<number>, from: number, to: number): string {
  let key = '';
  for (let i = from; i < to; i++) {
    key += i === from ? String(sequence[i]) : `,${sequence[i]}`;
  }
  return key;
}
