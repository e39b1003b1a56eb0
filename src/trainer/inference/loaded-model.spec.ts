import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { DatasetRecord, DatasetSchema, DatasetTask } from '../../datasets/dataset-types.js';
import { languageModelMetrics, regressionMetrics } from '../training/metrics.js';
import { TrainingRun, type TrainerIo } from '../runtime/train-loop.js';
import type { StartTraining, TrainingResult } from '../runtime/protocol.js';
import type { HeadType, HyperParameters, ModelFamily, TrainingSpec } from '../runtime/training-spec.js';
import { LoadedModel, ModelLoadError, type ModelFiles } from './loaded-model.js';

const io: TrainerIo = {
  event: () => undefined,
  metrics: () => undefined,
  progress: () => undefined,
  checkpoint: () => Promise.resolve(),
  control: () => 0,
  hold: () => Promise.resolve(),
};

const jsonl = (rows: DatasetRecord[]) => new TextEncoder().encode(rows.map((row) => JSON.stringify(row)).join('\n'));

function hyperparameters(overrides: Partial<HyperParameters>): HyperParameters {
  return {
    epochs: 1,
    maxSteps: 6,
    batchSize: 4,
    gradientAccumulationSteps: 1,
    learningRate: 0.01,
    optimizer: { name: 'adam' },
    loss: { name: 'cross_entropy' },
    schedule: { name: 'constant', warmupSteps: 0 },
    gradientClipNorm: 1,
    dropout: null,
    l1: 0,
    l2: 0,
    earlyStopping: null,
    sequenceLength: 24,
    seed: 7,
    evalEverySteps: 1000,
    checkpointEverySteps: 1000,
    keepLastCheckpoints: 1,
    keepBestCheckpoint: false,
    validationFraction: 0.2,
    logEverySteps: 1000,
    ...overrides,
  };
}

/** Trains a test-sized model in-process on explicit training and validation rows. */
async function train(options: {
  family: ModelFamily;
  head: HeadType;
  dataTask: DatasetTask;
  schema: DatasetSchema;
  training: DatasetRecord[];
  validation: DatasetRecord[];
  hyperparameters?: Partial<HyperParameters>;
}): Promise<TrainingResult> {
  const ref = (version: number) => ({
    datasetVersionId: `00000000-0000-4000-8000-00000000000${version}`,
    datasetId: '00000000-0000-4000-8000-000000000000',
    version,
    artifactKey: `datasets/x/blobs/${version}`,
    format: 'jsonl' as const,
    compression: 'none' as const,
    sha256: '0'.repeat(64),
  });
  const spec: TrainingSpec = {
    family: options.family,
    head: options.head,
    dataTask: options.dataTask,
    schema: options.schema,
    modelConfig:
      options.family === 'gpt2'
        ? { vocabSize: 300, nPositions: 32, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5, dropout: 0.1 }
        : { hiddenSizes: [8], activation: 'relu', dropout: 0.1 },
    tokenizerVocabSize: options.family === 'gpt2' ? 300 : null,
    baseModel: null,
    method: { type: 'full' },
    hyperparameters: hyperparameters(options.hyperparameters ?? {}),
    training: ref(1),
    validation: ref(2),
    outputModelName: 'test',
  };
  const start: StartTraining = {
    type: 'start',
    jobId: 'job',
    attempt: 1,
    spec,
    specHash: 'hash',
    training: jsonl(options.training),
    validation: jsonl(options.validation),
    baseModel: null,
    resume: null,
    control: new SharedArrayBuffer(4),
    holdAtSteps: null,
  };
  const outcome = await new TrainingRun(start, io, 'cpu').run();
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  return (outcome as { result: TrainingResult }).result;
}

function filesOf(result: TrainingResult): ModelFiles {
  const file = (name: string) => result.files.find((entry) => entry.name === name)?.bytes;
  const tokenizer = file('tokenizer.json');
  return {
    manifest: JSON.parse(new TextDecoder().decode(file('manifest.json'))) as Record<string, unknown>,
    weights: file('model.safetensors')!,
    tokenizer: tokenizer ? new TextDecoder().decode(tokenizer) : null,
  };
}

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

function tabularRows(count: number, offset: number): DatasetRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const x = ((index + offset) % 17) / 4 - 2;
    const colour = ['red', 'green', 'blue'][(index + offset) % 3];
    return { x, colour, kind: x + (colour === 'red' ? 1 : 0) > 0 ? 'high' : 'low', price: 100 + 30 * x };
  });
}

const words = ['the cat sat', 'a dog ran', 'the bird flew', 'a fish swam', 'the cow ate'];
function textRows(count: number, offset: number): DatasetRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    prompt: `${words[(index + offset) % words.length]} and`,
    completion: ` ${words[(index + offset + 1) % words.length]}`,
    text: `${words[(index + offset) % words.length]} then ${words[(index + offset + 2) % words.length]}`,
    label: (index + offset) % 2 === 0 ? 'even' : 'odd',
  }));
}

describe('LoadedModel', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('classifies with the mlp exactly as training validated it, with or without a label field', async () => {
    const validation = tabularRows(12, 100);
    const result = await train({
      family: 'mlp',
      head: 'classification',
      dataTask: 'classification',
      schema: { inputFields: ['x', 'colour'], labelField: 'kind' },
      training: tabularRows(40, 0),
      validation,
    });
    const model = LoadedModel.fromFiles(filesOf(result));
    try {
      assert.deepEqual(model.labels, ['high', 'low']);
      const predictions = model.classify(validation);
      const accuracy = predictions.filter((p, index) => p.label === validation[index].kind).length / validation.length;
      close(accuracy, result.metrics.accuracy as number, 'accuracy');
      // Mean cross-entropy from the probabilities equals the validation loss.
      const loss =
        predictions.reduce(
          (sum, p, index) => sum - Math.log(p.probabilities[model.labels!.indexOf(String(validation[index].kind))]),
          0,
        ) / validation.length;
      close(loss, result.metrics.loss as number, 'loss');
      for (const p of predictions) {
        close(
          p.probabilities.reduce((a, b) => a + b, 0),
          1,
          'probabilities sum',
        );
        assert.equal(p.label, model.labels[p.labelIndex]);
      }
      const unlabelled = validation.map(({ x, colour }) => ({ x, colour }));
      assert.deepEqual(
        model.classify(unlabelled).map((p) => p.label),
        predictions.map((p) => p.label),
      );
    } finally {
      model.dispose();
    }
  });

  it('regresses in the target units with the mlp', async () => {
    const validation = tabularRows(10, 50);
    const result = await train({
      family: 'mlp',
      head: 'regression',
      dataTask: 'regression',
      schema: { inputFields: ['x', 'colour'], labelField: 'price' },
      training: tabularRows(40, 3),
      validation,
      hyperparameters: { loss: { name: 'mse' } },
    });
    const model = LoadedModel.fromFiles(filesOf(result));
    try {
      const values = model.regress(validation.map(({ x, colour }) => ({ x, colour })));
      assert.equal(values.length, validation.length);
      const metrics = regressionMetrics(
        values,
        validation.map((row) => row.price as number),
      );
      close(metrics.mae, result.metrics.mae as number, 'mae');
      close(metrics.rmse, result.metrics.rmse as number, 'rmse');
    } finally {
      model.dispose();
    }
  });

  it('classifies text with gpt2 as training validated it', async () => {
    const validation = textRows(8, 11);
    const result = await train({
      family: 'gpt2',
      head: 'classification',
      dataTask: 'classification',
      schema: { inputFields: ['text'], labelField: 'label' },
      training: textRows(24, 0),
      validation,
    });
    const model = LoadedModel.fromFiles(filesOf(result));
    try {
      const predictions = model.classify(validation.map(({ text }) => ({ text })));
      const accuracy = predictions.filter((p, index) => p.label === validation[index].label).length / validation.length;
      close(accuracy, result.metrics.accuracy as number, 'accuracy');
      const loss =
        predictions.reduce(
          (sum, p, index) => sum - Math.log(p.probabilities[model.labels!.indexOf(String(validation[index].label))]),
          0,
        ) / validation.length;
      close(loss, result.metrics.loss as number, 'loss');
    } finally {
      model.dispose();
    }
  });

  it('gives per-row language-model sums that add up to the validation loss, and next-token logits', async () => {
    const validation = textRows(6, 2);
    const result = await train({
      family: 'gpt2',
      head: 'causal-lm',
      dataTask: 'prompt-completion',
      schema: { inputFields: ['prompt'], labelField: 'completion' },
      training: textRows(20, 0),
      validation,
    });
    const model = LoadedModel.fromFiles(filesOf(result));
    try {
      const stats = model.languageModelStats(validation);
      assert.equal(stats.length, validation.length);
      assert.ok(stats.every((row) => row.tokens > 0 && row.correct <= row.tokens));
      const total = stats.reduce(
        (sum, row) => ({
          lossSum: sum.lossSum + row.lossSum,
          tokens: sum.tokens + row.tokens,
          correct: sum.correct + row.correct,
        }),
        { lossSum: 0, tokens: 0, correct: 0 },
      );
      const metrics = languageModelMetrics(total.lossSum, total.tokens, total.correct);
      close(metrics.loss, result.metrics.loss as number, 'loss');

      // The next-token distribution at the end of a prompt is the one the stats scored.
      const tokenizer = model.tokenizer!;
      const prompt = tokenizer.encode(String(validation[0].prompt));
      const target = tokenizer.encode(String(validation[0].completion))[0];
      const logits = model.nextTokenLogits(prompt);
      assert.equal(logits.length, tokenizer.vocabSize);
      const max = Math.max(...logits);
      const logSum = max + Math.log(logits.reduce((sum, value) => sum + Math.exp(value - max), 0));
      const firstTokenLoss = logSum - logits[target];
      assert.ok(firstTokenLoss > 0 && firstTokenLoss <= stats[0].lossSum + 1e-4);
      // Longer than the context window: only the last nPositions tokens are read.
      const long = Array.from({ length: 80 }, (_, index) => prompt[index % prompt.length]);
      assert.equal(model.nextTokenLogits(long).length, tokenizer.vocabSize);
    } finally {
      model.dispose();
    }
  });

  it('refuses files that do not fit together, and a head it lacks', async () => {
    const result = await train({
      family: 'mlp',
      head: 'classification',
      dataTask: 'classification',
      schema: { inputFields: ['x', 'colour'], labelField: 'kind' },
      training: tabularRows(20, 0),
      validation: tabularRows(6, 30),
      hyperparameters: { maxSteps: 1 },
    });
    const files = filesOf(result);
    assert.throws(
      () => LoadedModel.fromFiles({ ...files, manifest: { ...files.manifest, labels: ['only'] } }),
      ModelLoadError,
    );
    assert.throws(
      () => LoadedModel.fromFiles({ ...files, manifest: { ...files.manifest, family: 'resnet' } }),
      /family "resnet"/,
    );
    const config = files.manifest.config as Record<string, unknown>;
    assert.throws(
      () =>
        LoadedModel.fromFiles({ ...files, manifest: { ...files.manifest, config: { ...config, hiddenSizes: [9] } } }),
      /Parameters do not match/,
    );
    const model = LoadedModel.fromFiles(files);
    assert.throws(() => model.regress([{ x: 1 }]), /classification head, not regression/);
    model.dispose();
    assert.throws(() => model.classify([{ x: 1 }]), /disposed/);
  });
});
