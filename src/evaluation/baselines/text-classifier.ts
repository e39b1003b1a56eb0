import { createRandom } from '../../datasets/transforms/random.js';

/**
 * The classical reference for text classification: TF-IDF over word unigrams and bigrams with a
 * multinomial logistic regression on top. Fitted on the training version of a model's lineage and
 * scored on the same held-out data as the model, it shows whether fine-tuning beat what a
 * scikit-learn user would try first.
 */
export interface TextClassifierOptions {
  /** Most frequent terms kept (by document frequency). */
  maxFeatures?: number;
  epochs?: number;
  learningRate?: number;
  /** L2 penalty per example on the weights. */
  l2?: number;
  seed?: number;
}

interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

const WORD = /[\p{L}\p{N}]+/gu;

export function textTerms(text: string): string[] {
  const words = text.toLowerCase().match(WORD) ?? [];
  const terms = [...words];
  for (let i = 0; i + 1 < words.length; i++) {
    terms.push(`${words[i]} ${words[i + 1]}`);
  }
  return terms;
}

export class TfidfLogisticRegression {
  private vocabulary = new Map<string, number>();
  private idf = new Float32Array(0);
  private weights = new Float32Array(0);
  private bias = new Float32Array(0);
  private classes = 0;

  constructor(private readonly options: TextClassifierOptions = {}) {}

  fit(texts: string[], labels: number[], classes: number): this {
    if (texts.length !== labels.length || texts.length === 0) {
      throw new Error('fit needs as many labels as texts, and at least one text');
    }
    this.classes = classes;
    this.buildVocabulary(texts);
    const documents = texts.map((text) => this.vectorize(text));
    const features = this.vocabulary.size;
    this.weights = new Float32Array(features * classes);
    this.bias = new Float32Array(classes);
    const squaredGradients = new Float32Array(features * classes).fill(1e-8);
    const biasSquaredGradients = new Float32Array(classes).fill(1e-8);
    const epochs = this.options.epochs ?? 15;
    const learningRate = this.options.learningRate ?? 0.5;
    const l2 = this.options.l2 ?? 1e-4;
    const random = createRandom(this.options.seed ?? 0);
    const order = Array.from({ length: documents.length }, (_, index) => index);
    const probabilities = new Float32Array(classes);
    // Adagrad on the softmax cross-entropy, one example at a time: sparse updates touch only the
    // terms an example has, so an epoch costs the number of non-zero entries, not rows x vocabulary.
    for (let epoch = 0; epoch < epochs; epoch++) {
      random.shuffle(order);
      for (const index of order) {
        const document = documents[index];
        this.scores(document, probabilities);
        for (let c = 0; c < classes; c++) {
          const error = probabilities[c] - (labels[index] === c ? 1 : 0);
          biasSquaredGradients[c] += error * error;
          this.bias[c] -= (learningRate * error) / Math.sqrt(biasSquaredGradients[c]);
          for (let k = 0; k < document.indices.length; k++) {
            const slot = document.indices[k] * classes + c;
            const gradient = error * document.values[k] + l2 * this.weights[slot];
            squaredGradients[slot] += gradient * gradient;
            this.weights[slot] -= (learningRate * gradient) / Math.sqrt(squaredGradients[slot]);
          }
        }
      }
    }
    return this;
  }

  /** Class probabilities of one text. */
  predictProbabilities(text: string): Float32Array {
    const probabilities = new Float32Array(this.classes);
    this.scores(this.vectorize(text), probabilities);
    return probabilities;
  }

  private buildVocabulary(texts: string[]): void {
    const documentFrequency = new Map<string, number>();
    for (const text of texts) {
      for (const term of new Set(textTerms(text))) {
        documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
      }
    }
    // Ties broken by the term itself, so the vocabulary does not depend on map order.
    const kept = [...documentFrequency.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, this.options.maxFeatures ?? 50_000);
    this.vocabulary = new Map(kept.map(([term], index) => [term, index]));
    // scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
    this.idf = Float32Array.from(kept, ([, df]) => Math.log((1 + texts.length) / (1 + df)) + 1);
  }

  private vectorize(text: string): SparseVector {
    const counts = new Map<number, number>();
    for (const term of textTerms(text)) {
      const index = this.vocabulary.get(term);
      if (index !== undefined) {
        counts.set(index, (counts.get(index) ?? 0) + 1);
      }
    }
    const indices = Uint32Array.from(counts.keys());
    const values = Float32Array.from(indices, (index) => counts.get(index)! * this.idf[index]);
    const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
    if (norm > 0) {
      for (let k = 0; k < values.length; k++) {
        values[k] /= norm;
      }
    }
    return { indices, values };
  }

  private scores(document: SparseVector, into: Float32Array): void {
    for (let c = 0; c < this.classes; c++) {
      let score = this.bias[c];
      for (let k = 0; k < document.indices.length; k++) {
        score += this.weights[document.indices[k] * this.classes + c] * document.values[k];
      }
      into[c] = score;
    }
    softmaxInPlace(into);
  }
}

export function softmaxInPlace(values: Float32Array | Float64Array): void {
  let max = -Infinity;
  for (const value of values) {
    max = Math.max(max, value);
  }
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    values[i] = Math.exp(values[i] - max);
    sum += values[i];
  }
  for (let i = 0; i < values.length; i++) {
    values[i] /= sum;
  }
}
