/**
 * Turns dataset rows into training examples: token ids with loss masks for the gpt2 family,
 * feature vectors for the mlp family, and the preprocessing a model needs at inference (labels,
 * feature scaling, target scaling), which goes into its manifest.
 */
import type { DatasetRecord, DatasetSchema, DatasetTask } from '../../datasets/dataset-types.js';
import type { HeadType } from './training-spec.js';

export interface Tokenizer {
  encode(text: string, options?: { allowSpecial?: boolean }): number[];
  readonly endOfTextId: number;
  readonly padId: number;
}

/** Padded to `sequenceLength`; `lengths` counts the real tokens of each example. */
export interface ExampleSet {
  count: number;
  sequenceLength: number;
  inputIds: Int32Array | null;
  lengths: Int32Array | null;
  lossMask: Float32Array | null;
  features: Float32Array | null;
  featureCount: number;
  labels: Int32Array | null;
  targets: Float32Array | null;
  /** Real (unpadded) tokens, for tokens/s. */
  tokenCount: number;
}

/**
 * How each input field becomes model inputs: a numeric field one standardised input, a categorical
 * one a one-hot block (plus "other"), a vector field `length` inputs, each element standardised with
 * its own mean and std (pixel 0 and pixel 400 of an image have different statistics).
 */
export interface FeaturePreprocessing {
  fields: Array<
    | { field: string; kind: 'numeric'; mean: number; std: number }
    | { field: string; kind: 'categorical'; categories: string[] }
    | { field: string; kind: 'vector'; length: number; mean: number[]; std: number[] }
  >;
}

export interface Preprocessing {
  labels: string[] | null;
  targetScaling: { mean: number; std: number } | null;
  features: FeaturePreprocessing | null;
}

export class ExampleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExampleError';
  }
}

const MAX_CATEGORIES = 50;

export function fieldText(record: DatasetRecord, fields: string[]): string {
  return fields
    .map((field) => record[field])
    .filter((value) => value !== undefined && value !== null)
    .map(scalarText)
    .join('\n');
}

/** A field value as text: strings as they are, numbers and booleans printed, anything else as JSON. */
export function scalarText(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}

function labelOf(record: DatasetRecord, schema: DatasetSchema): unknown {
  return schema.labelField ? record[schema.labelField] : undefined;
}

/** The texts a tokenizer is trained on: everything the model will read. */
export function trainingTexts(rows: DatasetRecord[], task: DatasetTask, schema: DatasetSchema): string[] {
  const texts: string[] = [];
  for (const row of rows) {
    switch (task) {
      case 'chat':
        texts.push(
          chatSegments(row, schema)
            .map((segment) => segment.text)
            .join(''),
        );
        break;
      case 'prompt-completion':
        texts.push(fieldText(row, schema.inputFields) + scalarText(labelOf(row, schema)));
        break;
      case 'classification':
      case 'regression':
      case 'causal-lm':
        texts.push(fieldText(row, schema.inputFields));
        break;
      default: {
        const unreachable: never = task;
        throw new Error(`unknown task ${String(unreachable)}`);
      }
    }
  }
  return texts;
}

/** Chat rows as text segments; only the assistant's turns are trained on. */
function chatSegments(row: DatasetRecord, schema: DatasetSchema): Array<{ text: string; train: boolean }> {
  const messages = row[schema.inputFields[0]];
  if (!Array.isArray(messages)) {
    return [];
  }
  const segments: Array<{ text: string; train: boolean }> = [];
  for (const message of messages as unknown[]) {
    if (message === null || typeof message !== 'object') {
      continue;
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    const roleName = typeof role === 'string' ? role : 'user';
    const text = typeof content === 'string' ? content : JSON.stringify(content ?? '');
    segments.push({ text: `${roleName}: `, train: false });
    segments.push({ text: `${text}\n`, train: roleName === 'assistant' });
  }
  return segments;
}

export function classLabels(rows: DatasetRecord[], schema: DatasetSchema): string[] {
  const labels = new Set<string>();
  for (const row of rows) {
    const label = labelOf(row, schema);
    if (label !== undefined && label !== null && label !== '') {
      labels.add(scalarText(label));
    }
  }
  return [...labels].sort();
}

function numberOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  return null;
}

function meanStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) {
    return { mean: 0, std: 1 };
  }
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  const std = Math.sqrt(variance);
  return { mean, std: std > 1e-12 ? std : 1 };
}

/** Fitted on the training rows only, so validation data never leaks into scaling. */
export function fitPreprocessing(
  rows: DatasetRecord[],
  schema: DatasetSchema,
  head: HeadType,
  tabular: boolean,
  fixedLabels: string[] | null,
): Preprocessing {
  let labels: string[] | null = null;
  let targetScaling: Preprocessing['targetScaling'] = null;
  if (head === 'classification') {
    labels = fixedLabels ?? classLabels(rows, schema);
    if (labels.length < 2) {
      throw new ExampleError(
        `classification needs at least two distinct labels in the training data, found ${labels.length}`,
      );
    }
  } else if (head === 'regression') {
    const targets = rows
      .map((row) => numberOf(labelOf(row, schema)))
      .filter((value): value is number => value !== null);
    if (targets.length === 0) {
      throw new ExampleError(`regression needs numeric values in ${schema.labelField ?? 'the label field'}`);
    }
    targetScaling = meanStd(targets);
  }
  let features: FeaturePreprocessing | null = null;
  if (tabular) {
    features = { fields: [] };
    for (const field of schema.inputFields) {
      const values = rows
        .map((row) => row[field])
        .filter((value) => value !== undefined && value !== null && value !== '');
      if (values.length > 0 && values.some((value) => Array.isArray(value))) {
        features.fields.push(fitVector(field, values));
        continue;
      }
      const numbers = values.map(numberOf);
      if (values.length > 0 && numbers.every((value) => value !== null)) {
        features.fields.push({ field, kind: 'numeric', ...meanStd(numbers) });
      } else {
        const counts = new Map<string, number>();
        for (const value of values) {
          const key = scalarText(value);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        const categories = [...counts.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, MAX_CATEGORIES)
          .map(([key]) => key);
        features.fields.push({ field, kind: 'categorical', categories });
      }
    }
  }
  return { labels, targetScaling, features };
}

/** Per-element mean and std of a vector field (every value an array of the same length). */
function fitVector(field: string, values: unknown[]): FeaturePreprocessing['fields'][number] {
  const first = values.find((value): value is unknown[] => Array.isArray(value))!;
  const length = first.length;
  const mean = new Float64Array(length);
  const squares = new Float64Array(length);
  let count = 0;
  for (const value of values) {
    if (!Array.isArray(value) || value.length !== length) {
      throw new ExampleError(
        `input field "${field}" must hold arrays of ${length} numbers in every row, as its first row does`,
      );
    }
    count += 1;
    for (let index = 0; index < length; index += 1) {
      const number = value[index] as unknown;
      if (typeof number !== 'number' || !Number.isFinite(number)) {
        throw new ExampleError(`input field "${field}" holds an element that is not a finite number`);
      }
      const delta = number - mean[index];
      mean[index] += delta / count;
      squares[index] += delta * (number - mean[index]);
    }
  }
  return {
    field,
    kind: 'vector',
    length,
    mean: Array.from(mean),
    std: Array.from(squares, (sum) => {
      const std = Math.sqrt(sum / count);
      return std > 1e-12 ? std : 1;
    }),
  };
}

export function featureCount(preprocessing: FeaturePreprocessing): number {
  return preprocessing.fields.reduce((sum, field) => {
    switch (field.kind) {
      case 'numeric':
        return sum + 1;
      case 'vector':
        return sum + field.length;
      case 'categorical':
        return sum + field.categories.length + 1;
      default: {
        const unreachable: never = field;
        throw new Error(`unknown feature kind ${String(unreachable)}`);
      }
    }
  }, 0);
}

/**
 * One row's feature vector: standardised numbers (missing = the mean), one-hot categories plus
 * "other", vectors element by element (a missing vector = the means).
 */
export function encodeFeatures(
  record: DatasetRecord,
  preprocessing: FeaturePreprocessing,
  into: Float32Array,
  offset: number,
): void {
  let position = offset;
  for (const field of preprocessing.fields) {
    const value = record[field.field];
    if (field.kind === 'numeric') {
      const number = numberOf(value);
      into[position] = number === null ? 0 : (number - field.mean) / field.std;
      position += 1;
    } else if (field.kind === 'vector') {
      if (Array.isArray(value)) {
        for (let index = 0; index < field.length; index += 1) {
          const number = numberOf(value[index]);
          into[position + index] = number === null ? 0 : (number - field.mean[index]) / field.std[index];
        }
      }
      position += field.length;
    } else {
      const index = value === undefined || value === null ? -1 : field.categories.indexOf(scalarText(value));
      into[position + (index >= 0 ? index : field.categories.length)] = 1;
      position += field.categories.length + 1;
    }
  }
}

interface TokenRow {
  ids: number[];
  mask: number[];
}

function tokenRows(
  rows: DatasetRecord[],
  task: DatasetTask,
  schema: DatasetSchema,
  tokenizer: Tokenizer,
  T: number,
): TokenRow[] {
  const result: TokenRow[] = [];
  const eos = tokenizer.endOfTextId;
  switch (task) {
    case 'causal-lm': {
      // Pack documents end to end with an end-of-text token between them, GPT-style.
      const stream: number[] = [];
      for (const row of rows) {
        const text = fieldText(row, schema.inputFields);
        if (text.length > 0) {
          stream.push(...tokenizer.encode(text, { allowSpecial: false }), eos);
        }
      }
      for (let start = 0; start < stream.length; start += T) {
        const ids = stream.slice(start, start + T);
        if (ids.length >= 2) {
          result.push({ ids, mask: ids.map(() => 1) });
        }
      }
      return result;
    }
    case 'prompt-completion':
      for (const row of rows) {
        const prompt = tokenizer.encode(fieldText(row, schema.inputFields), { allowSpecial: false });
        const completion = [...tokenizer.encode(scalarText(labelOf(row, schema)), { allowSpecial: false }), eos];
        // Keep the end of a long prompt: the completion follows from it.
        const room = Math.max(1, T - completion.length);
        const kept = prompt.slice(Math.max(0, prompt.length - room));
        const ids = [...kept, ...completion].slice(0, T);
        result.push({ ids, mask: ids.map((_, index) => (index >= kept.length ? 1 : 0)) });
      }
      return result;
    case 'chat':
      for (const row of rows) {
        const ids: number[] = [];
        const mask: number[] = [];
        for (const segment of chatSegments(row, schema)) {
          for (const id of tokenizer.encode(segment.text, { allowSpecial: false })) {
            ids.push(id);
            mask.push(segment.train ? 1 : 0);
          }
        }
        ids.push(eos);
        mask.push(1);
        if (ids.length >= 2) {
          result.push({ ids: ids.slice(0, T), mask: mask.slice(0, T) });
        }
      }
      return result;
    case 'classification':
    case 'regression':
      for (const row of rows) {
        const ids = tokenizer.encode(fieldText(row, schema.inputFields), { allowSpecial: false }).slice(0, T);
        result.push({ ids: ids.length > 0 ? ids : [eos], mask: [] });
      }
      return result;
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

export interface BuildOptions {
  task: DatasetTask;
  schema: DatasetSchema;
  head: HeadType;
  sequenceLength: number;
  tokenizer: Tokenizer | null;
  preprocessing: Preprocessing;
  /**
   * Prediction: keep every row, in order, and read no label or target (a classification or
   * regression example per row). Training and evaluation leave it unset and drop unlabelled rows.
   */
  unlabelled?: boolean;
}

export function buildExamples(rows: DatasetRecord[], options: BuildOptions): ExampleSet {
  const { schema, head, preprocessing } = options;
  const T = options.sequenceLength;
  const set: ExampleSet = {
    count: 0,
    sequenceLength: T,
    inputIds: null,
    lengths: null,
    lossMask: null,
    features: null,
    featureCount: 0,
    labels: null,
    targets: null,
    tokenCount: 0,
  };
  // Rows whose label is missing or unknown cannot teach a supervised head: drop them.
  let usable = rows;
  if (options.unlabelled) {
    // Prediction reads no label: every row stays.
  } else if (head === 'classification') {
    const labels = preprocessing.labels ?? [];
    usable = rows.filter((row) => labels.includes(scalarText(labelOf(row, schema))));
  } else if (head === 'regression') {
    usable = rows.filter((row) => numberOf(labelOf(row, schema)) !== null);
  }
  if (options.tokenizer) {
    const tokenized = tokenRows(usable, options.task, schema, options.tokenizer, T);
    const count = tokenized.length;
    set.count = count;
    set.inputIds = new Int32Array(count * T).fill(options.tokenizer.padId);
    set.lengths = new Int32Array(count);
    if (head === 'causal-lm') {
      set.lossMask = new Float32Array(count * T);
    }
    tokenized.forEach((row, index) => {
      set.inputIds!.set(row.ids, index * T);
      set.lengths![index] = row.ids.length;
      set.tokenCount += row.ids.length;
      if (set.lossMask) {
        set.lossMask.set(row.mask, index * T);
      }
    });
  } else if (preprocessing.features) {
    const width = featureCount(preprocessing.features);
    set.count = usable.length;
    set.featureCount = width;
    set.features = new Float32Array(usable.length * width);
    usable.forEach((row, index) => encodeFeatures(row, preprocessing.features!, set.features!, index * width));
    set.tokenCount = usable.length * width;
  } else {
    throw new ExampleError('no tokenizer and no feature preprocessing: nothing to encode the rows with');
  }
  if (options.unlabelled) {
    return set;
  }
  if (head === 'classification') {
    const labels = preprocessing.labels!;
    set.labels = Int32Array.from(usable, (row) => labels.indexOf(scalarText(labelOf(row, schema))));
  } else if (head === 'regression') {
    const scaling = preprocessing.targetScaling!;
    set.targets = Float32Array.from(
      usable,
      (row) => ((numberOf(labelOf(row, schema)) ?? 0) - scaling.mean) / scaling.std,
    );
  }
  return set;
}

/** A deterministic shuffle (mulberry32), so the same seed gives the same order on every replica. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

export function permutation(count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, index) => index);
  const random = seededRandom(seed);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}

/** Splits rows into training and validation by a seeded shuffle; at least one row each. */
export function splitRows<T>(rows: T[], fraction: number, seed: number): { training: T[]; validation: T[] } {
  const order = permutation(rows.length, seed ^ 0x5bd1e995);
  const validationCount = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * fraction)));
  const validation: T[] = [];
  const training: T[] = [];
  order.forEach((index, position) => (position < validationCount ? validation : training).push(rows[index]));
  return { training, validation };
}
