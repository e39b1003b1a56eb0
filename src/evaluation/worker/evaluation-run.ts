/**
 * One evaluation inside a trainer worker: pulls the evaluation data from the main thread chunk by
 * chunk, parses it with the streaming dataset reader, scores each batch of rows with the model (and
 * the baseline version, and the reference models fitted on the model's training data), sends the
 * prediction lines back as it goes, and ends with the metrics, slices and comparison. Only a few
 * numbers per example are kept, never the rows.
 */
import type { DatasetRecord, DatasetSchema } from '../../datasets/dataset-types.js';
import { readDatasetBatches, STORED_FILE_LIMITS } from '../../datasets/parsing/dataset-reader.js';
import {
  encodeFeatures,
  featureCount,
  fieldText,
  scalarText,
  type FeaturePreprocessing,
} from '../../trainer/runtime/examples.js';
import { BpeTokenizer } from '../../trainer/tokenizer/bpe-tokenizer.js';
import { NgramLanguageModel } from '../baselines/ngram-language-model.js';
import { argmax } from '../statistics/classification-metrics.js';
import { RidgeRegression } from '../baselines/ridge-regression.js';
import { TfidfLogisticRegression } from '../baselines/text-classifier.js';
import {
  compareScores,
  metricsOf,
  scoredCount,
  sliceIndices,
  type EvaluationResult,
  type ReferenceModelResult,
  type TaskScores,
} from '../scoring.js';
import type { EvaluationOutcome, ModelFiles, StartEvaluation, StreamedDataset } from './evaluation-protocol.js';

/** The forward pass of a stored model version, batched; rows without a target work too. */
export interface EvaluatedModel {
  /** Classifiers: the labels, in the order of the probabilities. */
  readonly labels: string[] | null;
  /** Per-label probabilities of each row, in label order. */
  classify(rows: DatasetRecord[]): Promise<Float32Array[]>;
  /** Each row's value in the target's original units. */
  regress(rows: DatasetRecord[]): Promise<number[]>;
  /** Each row's summed loss, target tokens and correctly predicted target tokens. */
  languageModelStats(rows: DatasetRecord[]): Promise<Array<{ lossSum: number; tokens: number; correct: number }>>;
  dispose(): void;
}

/** What the run needs from the thread it runs in. */
export interface EvaluationIo {
  loadModel(files: ModelFiles): Promise<EvaluatedModel>;
  /** The next chunk of a stream, null at its end. */
  pull(stream: 'training' | 'evaluation'): Promise<Uint8Array | null>;
  /** Appends prediction lines to the artifact; resolves once they are written. */
  predictions(text: string): Promise<void>;
  progress(rows: number): void;
  /** 1 when a cancel was asked for. */
  control(): number;
  /** Waits at a hold (tests). */
  hold(batches: number): Promise<void>;
}

export const CONTROL_CANCEL_FLAG = 1;
const MISSING = '(missing)';
/** Reference models fit on at most this many training rows, so an enormous training set stays bounded. */
export const REFERENCE_FIT_ROWS = 50_000;

export class EvaluationFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

async function* pulled(io: EvaluationIo, stream: 'training' | 'evaluation'): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await io.pull(stream);
    if (!chunk) {
      return;
    }
    yield chunk;
  }
}

/** Rows of a pulled dataset, in batches of `size` with their 1-based line numbers. */
async function* rowBatches(
  io: EvaluationIo,
  stream: 'training' | 'evaluation',
  dataset: StreamedDataset,
  size: number,
): AsyncGenerator<Array<{ line: number; record: DatasetRecord }>> {
  let batch: Array<{ line: number; record: DatasetRecord }> = [];
  for await (const items of readDatasetBatches(pulled(io, stream), {
    format: dataset.format,
    compression: dataset.compression,
    ...STORED_FILE_LIMITS,
  })) {
    for (const item of items) {
      if (item.kind === 'row') {
        batch.push({ line: item.row.line, record: item.row.record });
        if (batch.length === size) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) {
    yield batch;
  }
}

/** A reference model fitted on the training data, scoring evaluation rows. */
interface ReferenceScorer {
  name: ReferenceModelResult['name'];
  scores: TaskScores;
  /** Scores the rows whose target is usable, appending to `scores`. */
  add(records: DatasetRecord[]): void;
}

export class EvaluationRun {
  private readonly labels: string[] | null;
  private readonly schema: DatasetSchema;

  constructor(
    private readonly start: StartEvaluation,
    private readonly io: EvaluationIo,
  ) {
    const labels = start.model.manifest.labels;
    this.labels = Array.isArray(labels) ? labels.map(String) : null;
    this.schema = start.evaluation.schema;
  }

  async run(): Promise<EvaluationOutcome> {
    let model: EvaluatedModel | null = null;
    let baseline: EvaluatedModel | null = null;
    try {
      model = await this.io.loadModel(this.start.model);
      baseline = this.start.baselineModel ? await this.io.loadModel(this.start.baselineModel) : null;
      const references = await this.fitReferences();
      return await this.score(model, baseline, references);
    } catch (error) {
      if (error instanceof EvaluationFailure) {
        return { status: 'failed', code: error.code, message: error.message };
      }
      return {
        status: 'failed',
        code: 'evaluation_error',
        message: error instanceof Error ? error.message : String(error),
      };
    } finally {
      model?.dispose();
      baseline?.dispose();
    }
  }

  private emptyScores(): TaskScores {
    switch (this.start.task) {
      case 'classification':
        return { task: 'classification', labels: this.labels ?? [], probabilities: [], actual: [] };
      case 'regression':
        return { task: 'regression', predictions: [], targets: [] };
      case 'causal-lm':
        return { task: 'causal-lm', lossSums: [], tokens: [], correct: [] };
      default: {
        const unreachable: never = this.start.task;
        throw new Error(`unknown task ${String(unreachable)}`);
      }
    }
  }

  private labelIndex(record: DatasetRecord, schema: DatasetSchema): number | 'missing' | 'unknown' {
    const value = schema.labelField ? record[schema.labelField] : undefined;
    if (value === undefined || value === null || value === '') {
      return 'missing';
    }
    const index = (this.labels ?? []).indexOf(scalarText(value));
    return index < 0 ? 'unknown' : index;
  }

  private target(record: DatasetRecord, schema: DatasetSchema): number | null {
    return schema.labelField ? numberOf(record[schema.labelField]) : null;
  }

  private async score(
    model: EvaluatedModel,
    baseline: EvaluatedModel | null,
    references: { fittedOn: number | null; note: string | null; scorers: ReferenceScorer[] },
  ): Promise<EvaluationOutcome> {
    const scores = this.emptyScores();
    const baselineScores = baseline ? this.emptyScores() : null;
    const sliceValues: string[] = [];
    const skipped: Record<string, number> = {};
    const skip = (reason: string) => {
      skipped[reason] = (skipped[reason] ?? 0) + 1;
    };
    let rows = 0;
    let batches = 0;
    const holds = new Set(this.start.holdAtBatches ?? []);
    for await (const batch of rowBatches(this.io, 'evaluation', this.start.evaluation, this.start.batchSize)) {
      if (this.io.control() === CONTROL_CANCEL_FLAG) {
        return { status: 'cancelled', rows };
      }
      const records = batch.map((row) => row.record);
      const lines: string[] = [];
      const scoredRecords: DatasetRecord[] = [];
      switch (scores.task) {
        case 'classification': {
          const probabilities = await model.classify(records);
          const other = baseline && baselineScores?.task === 'classification' ? await baseline.classify(records) : null;
          batch.forEach((row, i) => {
            const actual = this.labelIndex(row.record, this.schema);
            const top = argmax(probabilities[i]);
            const scored = typeof actual === 'number';
            lines.push(
              JSON.stringify({
                line: row.line,
                prediction: this.labels?.[top] ?? null,
                target: actual === 'missing' ? null : scalarText(row.record[this.schema.labelField ?? '']),
                scored,
                probabilities: Object.fromEntries((this.labels ?? []).map((label, c) => [label, probabilities[i][c]])),
              }),
            );
            if (!scored) {
              skip(actual === 'missing' ? 'missing_label' : 'unknown_label');
              return;
            }
            scores.probabilities.push(probabilities[i]);
            scores.actual.push(actual);
            if (other && baselineScores?.task === 'classification') {
              baselineScores.probabilities.push(other[i]);
              baselineScores.actual.push(actual);
            }
            scoredRecords.push(row.record);
          });
          break;
        }
        case 'regression': {
          const values = await model.regress(records);
          const other = baseline ? await baseline.regress(records) : null;
          batch.forEach((row, i) => {
            const target = this.target(row.record, this.schema);
            lines.push(JSON.stringify({ line: row.line, prediction: values[i], target, scored: target !== null }));
            if (target === null) {
              skip('missing_target');
              return;
            }
            scores.predictions.push(values[i]);
            scores.targets.push(target);
            if (other && baselineScores?.task === 'regression') {
              baselineScores.predictions.push(other[i]);
              baselineScores.targets.push(target);
            }
            scoredRecords.push(row.record);
          });
          break;
        }
        case 'causal-lm': {
          const stats = await model.languageModelStats(records);
          const other = baseline ? await baseline.languageModelStats(records) : null;
          batch.forEach((row, i) => {
            const { lossSum, tokens, correct } = stats[i];
            const scored = tokens > 0;
            lines.push(
              JSON.stringify({
                line: row.line,
                loss: scored ? lossSum / tokens : null,
                tokens,
                correctTokens: correct,
                scored,
              }),
            );
            if (!scored) {
              skip('no_target_tokens');
              return;
            }
            scores.lossSums.push(lossSum);
            scores.tokens.push(tokens);
            scores.correct.push(correct);
            if (other && baselineScores?.task === 'causal-lm') {
              baselineScores.lossSums.push(other[i].lossSum);
              baselineScores.tokens.push(other[i].tokens);
              baselineScores.correct.push(other[i].correct);
            }
            scoredRecords.push(row.record);
          });
          break;
        }
        default: {
          const unreachable: never = scores;
          throw new Error(`unknown task ${JSON.stringify(unreachable)}`);
        }
      }
      for (const record of scoredRecords) {
        if (this.start.sliceBy) {
          const value = record[this.start.sliceBy];
          sliceValues.push(value === undefined || value === null || value === '' ? MISSING : scalarText(value));
        }
      }
      for (const reference of references.scorers) {
        reference.add(scoredRecords);
      }
      await this.io.predictions(lines.join('\n') + '\n');
      rows += batch.length;
      batches += 1;
      this.io.progress(rows);
      if (holds.has(batches)) {
        await this.io.hold(batches);
      }
    }
    if (this.io.control() === CONTROL_CANCEL_FLAG) {
      return { status: 'cancelled', rows };
    }
    const examples = scoredCount(scores);
    if (examples === 0) {
      throw new EvaluationFailure(
        'no_examples',
        `None of the ${rows} rows could be scored (${Object.entries(skipped)
          .map(([reason, count]) => `${reason}: ${count}`)
          .join(', ')})`,
      );
    }
    const result: EvaluationResult = {
      task: this.start.task,
      rows,
      examples,
      skipped,
      metrics: metricsOf(scores),
      slices: this.start.sliceBy
        ? sliceIndices(sliceValues).map((slice) => ({
            value: slice.value,
            examples: slice.indices.length,
            metrics: metricsOf(scores, slice.indices),
          }))
        : null,
      referenceModels: {
        fittedOn: references.fittedOn === null ? null : { rows: references.fittedOn },
        note: references.note,
        models: references.scorers.map((reference) => ({ name: reference.name, metrics: metricsOf(reference.scores) })),
      },
      comparison: baselineScores ? compareScores(scores, baselineScores, this.start.bootstrap) : null,
    };
    return { status: 'succeeded', result };
  }

  // ------------------------------------------------------------------ reference models

  private async fitReferences(): Promise<{ fittedOn: number | null; note: string | null; scorers: ReferenceScorer[] }> {
    const training = this.start.training;
    if (!training) {
      return { fittedOn: null, note: this.start.trainingUnavailable, scorers: [] };
    }
    const manifest = this.start.model.manifest;
    const tokenizer =
      this.start.model.tokenizer !== null ? BpeTokenizer.fromJSON(JSON.parse(this.start.model.tokenizer)) : null;
    const features = (manifest.features ?? null) as FeaturePreprocessing | null;
    const inputFields = training.schema.inputFields;
    // Token models read text; mlp models read a table (their feature preprocessing says how).
    const textInput = manifest.family === 'gpt2';
    const labelCounts = new Map<number, number>();
    let targetSum = 0;
    let targetCount = 0;
    const texts: string[] = [];
    const classes: number[] = [];
    const featureRows: Float32Array[] = [];
    const targets: number[] = [];
    const languageModel = tokenizer ? new NgramLanguageModel(tokenizer.vocabSize) : null;
    let rows = 0;
    for await (const batch of rowBatches(this.io, 'training', training, 256)) {
      for (const { record } of batch) {
        if (rows >= REFERENCE_FIT_ROWS) {
          break;
        }
        rows += 1;
        switch (this.start.task) {
          case 'classification': {
            const label = this.labelIndex(record, training.schema);
            if (typeof label === 'number') {
              labelCounts.set(label, (labelCounts.get(label) ?? 0) + 1);
              if (textInput) {
                texts.push(fieldText(record, inputFields));
                classes.push(label);
              }
            }
            break;
          }
          case 'regression': {
            const target = this.target(record, training.schema);
            if (target !== null) {
              targetSum += target;
              targetCount += 1;
              if (features) {
                const row = new Float32Array(featureCount(features));
                encodeFeatures(record, features, row, 0);
                featureRows.push(row);
                targets.push(target);
              }
            }
            break;
          }
          case 'causal-lm':
            if (languageModel && tokenizer && training.task === 'causal-lm') {
              languageModel.add(tokenizer.encode(fieldText(record, inputFields)));
            }
            break;
          default: {
            const unreachable: never = this.start.task;
            throw new Error(`unknown task ${String(unreachable)}`);
          }
        }
      }
    }
    const scorers: ReferenceScorer[] = [];
    const notes: string[] = [];
    if (rows >= REFERENCE_FIT_ROWS) {
      notes.push(`fitted on the first ${REFERENCE_FIT_ROWS} training rows`);
    }
    switch (this.start.task) {
      case 'classification': {
        const labels = this.labels ?? [];
        const total = [...labelCounts.values()].reduce((sum, count) => sum + count, 0);
        if (total > 0) {
          // The class frequencies of the training data: its top class is the majority class.
          const prior = Float32Array.from(labels, (_, c) => (labelCounts.get(c) ?? 0) / total);
          scorers.push(this.classificationScorer('majority_class', () => prior));
          if (textInput && texts.length > 0) {
            const classifier = new TfidfLogisticRegression({ seed: 0 }).fit(texts, classes, labels.length);
            scorers.push(
              this.classificationScorer('tfidf_logistic_regression', (record) =>
                classifier.predictProbabilities(fieldText(record, inputFields)),
              ),
            );
          }
        }
        break;
      }
      case 'regression':
        if (targetCount > 0) {
          const mean = targetSum / targetCount;
          scorers.push(this.regressionScorer('mean', () => mean));
          if (features && featureRows.length > 0) {
            const ridge = new RidgeRegression(1).fit(featureRows, targets);
            const width = featureCount(features);
            scorers.push(
              this.regressionScorer('ridge_regression', (record) => {
                const row = new Float32Array(width);
                encodeFeatures(record, features, row, 0);
                return ridge.predict(row);
              }),
            );
          }
        }
        break;
      case 'causal-lm':
        if (languageModel && tokenizer && training.task === 'causal-lm' && this.start.evaluation.task === 'causal-lm') {
          scorers.push(this.languageModelScorer(languageModel, tokenizer, inputFields));
        } else {
          notes.push('the n-gram reference is fitted on plain-text (causal-lm) data only');
        }
        break;
      default: {
        const unreachable: never = this.start.task;
        throw new Error(`unknown task ${String(unreachable)}`);
      }
    }
    return { fittedOn: rows, note: notes.length > 0 ? notes.join('; ') : null, scorers };
  }

  private classificationScorer(
    name: ReferenceModelResult['name'],
    predict: (record: DatasetRecord) => Float32Array,
  ): ReferenceScorer {
    const scores: Extract<TaskScores, { task: 'classification' }> = {
      task: 'classification',
      labels: this.labels ?? [],
      probabilities: [],
      actual: [],
    };
    return {
      name,
      scores,
      add: (records) => {
        for (const record of records) {
          const actual = this.labelIndex(record, this.schema);
          if (typeof actual === 'number') {
            scores.probabilities.push(predict(record));
            scores.actual.push(actual);
          }
        }
      },
    };
  }

  private regressionScorer(
    name: ReferenceModelResult['name'],
    predict: (record: DatasetRecord) => number,
  ): ReferenceScorer {
    const scores: Extract<TaskScores, { task: 'regression' }> = { task: 'regression', predictions: [], targets: [] };
    return {
      name,
      scores,
      add: (records) => {
        for (const record of records) {
          const target = this.target(record, this.schema);
          if (target !== null) {
            scores.predictions.push(predict(record));
            scores.targets.push(target);
          }
        }
      },
    };
  }

  private languageModelScorer(
    model: NgramLanguageModel,
    tokenizer: BpeTokenizer,
    inputFields: string[],
  ): ReferenceScorer {
    const scores: Extract<TaskScores, { task: 'causal-lm' }> = {
      task: 'causal-lm',
      lossSums: [],
      tokens: [],
      correct: [],
    };
    return {
      name: 'trigram_language_model',
      scores,
      add: (records) => {
        for (const record of records) {
          const ids = tokenizer.encode(fieldText(record, inputFields));
          // Every token after the first is predicted from its history, as a causal LM's loss counts them.
          const { lossSum, tokens } = model.score(ids, 1, ids.length);
          scores.lossSums.push(lossSum);
          scores.tokens.push(tokens);
          scores.correct.push(0);
        }
      },
    };
  }
}
