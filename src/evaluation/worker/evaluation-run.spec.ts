import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import type { DatasetRecord } from '../../datasets/dataset-types.js';
import type { EvaluationOutcome, StartEvaluation } from './evaluation-protocol.js';
import { CONTROL_CANCEL_FLAG, EvaluationRun, type EvaluatedModel, type EvaluationIo } from './evaluation-run.js';

const jsonl = (rows: unknown[]) => Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

/** A keyword classifier standing in for a loaded model: `good` means pos, with 0.9. */
function keywordModel(keyword: string, confidence = 0.9): EvaluatedModel {
  return {
    labels: ['neg', 'pos'],
    classify: (rows: DatasetRecord[]) =>
      Promise.resolve(
        rows.map((row) =>
          String(row.text).includes(keyword)
            ? Float32Array.from([1 - confidence, confidence])
            : Float32Array.from([confidence, 1 - confidence]),
        ),
      ),
    regress: (rows: DatasetRecord[]) => Promise.resolve(rows.map((row) => Number(row.x) * 2)),
    languageModelStats: () => Promise.reject(new Error('not a language model')),
    dispose: () => undefined,
  };
}

const reviews = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => {
    const positive = (i + offset) % 3 !== 0;
    // Every fifth positive review is phrased without the keyword: the keyword model gets it wrong.
    const text = positive ? ((i + offset) % 5 === 0 ? 'fine enough' : 'good film') : 'dull film';
    return { text, label: positive ? 'pos' : 'neg', source: i % 2 === 0 ? 'web' : 'mail' };
  });

function start(overrides: Partial<StartEvaluation> = {}): StartEvaluation {
  return {
    type: 'evaluate',
    evaluationId: '00000000-0000-4000-8000-000000000001',
    attempt: 1,
    task: 'classification',
    model: { manifest: { family: 'gpt2', labels: ['neg', 'pos'] }, weights: new Uint8Array(), tokenizer: null },
    baselineModel: null,
    evaluation: {
      format: 'jsonl',
      compression: 'none',
      schema: { inputFields: ['text'], labelField: 'label' },
      task: 'classification',
    },
    training: {
      format: 'jsonl',
      compression: 'none',
      schema: { inputFields: ['text'], labelField: 'label' },
      task: 'classification',
    },
    trainingUnavailable: null,
    sliceBy: null,
    bootstrap: { resamples: 200, seed: 1, confidence: 0.95 },
    batchSize: 10,
    control: new SharedArrayBuffer(4),
    holdAtBatches: null,
    ...overrides,
  };
}

/** Serves each stream in small chunks and records what the run sends back. */
function io(
  streams: { evaluation: Buffer; training?: Buffer },
  models: (files: StartEvaluation['model']) => EvaluatedModel,
  options: { onHold?: (batches: number) => void; control?: () => number } = {},
) {
  const served = { evaluation: 0, training: 0 };
  const chunkSize = 37;
  const lines: string[] = [];
  const progress: number[] = [];
  const held: number[] = [];
  const handle: EvaluationIo = {
    loadModel: (files) => Promise.resolve(models(files)),
    pull: (stream) => {
      const source = stream === 'evaluation' ? streams.evaluation : streams.training;
      if (!source || served[stream] >= source.length) {
        return Promise.resolve(null);
      }
      const chunk = source.subarray(served[stream], served[stream] + chunkSize);
      served[stream] += chunk.length;
      return Promise.resolve(new Uint8Array(chunk));
    },
    predictions: (text) => {
      lines.push(...text.trimEnd().split('\n'));
      return Promise.resolve();
    },
    progress: (rows) => progress.push(rows),
    control: options.control ?? (() => 0),
    hold: (batches) => {
      held.push(batches);
      options.onHold?.(batches);
      return Promise.resolve();
    },
  };
  return { handle, lines, progress, held };
}

const succeeded = (outcome: EvaluationOutcome) => {
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  return outcome.result;
};

describe('evaluation run (worker side)', () => {
  it('streams the data in batches, writes a prediction per row and scores the labelled ones', async () => {
    const rows = [...reviews(25), { text: 'good film' }, { text: 'good film', label: 'maybe' }];
    const run = io({ evaluation: jsonl(rows), training: jsonl(reviews(60, 1)) }, () => keywordModel('good'));
    const result = succeeded(await new EvaluationRun(start({ sliceBy: 'source' }), run.handle).run());
    assert.equal(result.rows, 27);
    assert.equal(result.examples, 25);
    assert.deepEqual(result.skipped, { missing_label: 1, unknown_label: 1 });
    assert.equal(run.lines.length, 27, 'one prediction line per row');
    assert.deepEqual(run.progress, [10, 20, 27]);
    const predictions = run.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      predictions.map((p) => p.line),
      Array.from({ length: 27 }, (_, i) => i + 1),
    );
    assert.deepEqual(predictions[25], {
      line: 26,
      prediction: 'pos',
      target: null,
      scored: false,
      probabilities: {
        neg: predictions[25].probabilities && (predictions[25].probabilities as { neg: number }).neg,
        pos: Math.fround(0.9),
      },
    });
    // Accuracy recomputed from the lines agrees with the reported one.
    const scored = predictions.filter((p) => p.scored);
    const right = scored.filter((p) => p.prediction === p.target).length;
    assert.equal(result.metrics.accuracy, right / scored.length);
    assert.ok(right < scored.length, 'the keyword model makes mistakes');
    // Slices cover every scored example.
    assert.deepEqual(result.slices?.map((slice) => slice.value).sort(), ['mail', 'web']);
    assert.equal(
      result.slices?.reduce((sum, slice) => sum + slice.examples, 0),
      25,
    );
    // Reference models: the training data's majority class (pos) and TF-IDF + logistic regression.
    assert.deepEqual(
      result.referenceModels.models.map((model) => model.name),
      ['majority_class', 'tfidf_logistic_regression'],
    );
    const majority = result.referenceModels.models[0].metrics;
    const positives = rows.slice(0, 25).filter((row) => row.label === 'pos').length;
    assert.equal(majority.accuracy, positives / 25);
    assert.equal(result.referenceModels.fittedOn?.rows, 60);
    assert.equal(result.comparison, null);
  });

  it('reads gzip input and compares with a baseline version on the same rows', async () => {
    const rows = reviews(40);
    const run = io({ evaluation: gzipSync(jsonl(rows)), training: jsonl(reviews(30)) }, (files) =>
      files.manifest.version === 2 ? keywordModel('film', 0.6) : keywordModel('good'),
    );
    const result = succeeded(
      await new EvaluationRun(
        start({
          evaluation: { ...start().evaluation, compression: 'gzip' },
          baselineModel: {
            manifest: { family: 'gpt2', labels: ['neg', 'pos'], version: 2 },
            weights: new Uint8Array(),
            tokenizer: null,
          },
        }),
        run.handle,
      ).run(),
    );
    assert.equal(result.examples, 40);
    const comparison = result.comparison!;
    const candidateAccuracy = result.metrics.accuracy as number;
    const baselineAccuracy = comparison.baselineMetrics.accuracy as number;
    assert.equal(comparison.differences.accuracy.estimate, candidateAccuracy - baselineAccuracy);
    assert.ok(comparison.differences.accuracy.lower <= comparison.differences.accuracy.estimate);
    assert.ok(comparison.differences.accuracy.upper >= comparison.differences.accuracy.estimate);
    assert.equal(comparison.differences.accuracy.resamples, 200);
    assert.ok(comparison.mcnemar && comparison.mcnemar.pValue > 0 && comparison.mcnemar.pValue <= 1);
  });

  it('scores regression in original units against the mean and ridge references', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ x: i, label: 2 * i + (i % 2) }));
    const run = io({ evaluation: jsonl(rows), training: jsonl(rows) }, () => keywordModel(''));
    const result = succeeded(
      await new EvaluationRun(
        start({
          task: 'regression',
          model: {
            manifest: { family: 'mlp', features: { fields: [{ field: 'x', kind: 'numeric', mean: 14.5, std: 8.66 }] } },
            weights: new Uint8Array(),
            tokenizer: null,
          },
          evaluation: {
            format: 'jsonl',
            compression: 'none',
            schema: { inputFields: ['x'], labelField: 'label' },
            task: 'regression',
          },
          training: {
            format: 'jsonl',
            compression: 'none',
            schema: { inputFields: ['x'], labelField: 'label' },
            task: 'regression',
          },
        }),
        run.handle,
      ).run(),
    );
    // The model predicts 2x; the targets are 2x or 2x + 1: MAE 0.5.
    assert.equal(result.metrics.mae, 0.5);
    assert.deepEqual(
      result.referenceModels.models.map((model) => model.name),
      ['mean', 'ridge_regression'],
    );
    const ridge = result.referenceModels.models[1].metrics;
    assert.ok((ridge.mae as number) < 1, 'ridge fits the linear relation');
  });

  it('says why there are no reference models for an imported model', async () => {
    const run = io({ evaluation: jsonl(reviews(5)) }, () => keywordModel('good'));
    const result = succeeded(
      await new EvaluationRun(
        start({ training: null, trainingUnavailable: 'The model was imported' }),
        run.handle,
      ).run(),
    );
    assert.equal(result.referenceModels.fittedOn, null);
    assert.equal(result.referenceModels.note, 'The model was imported');
    assert.deepEqual(result.referenceModels.models, []);
  });

  it('stops before the next batch when cancelled at a hold', async () => {
    let control = 0;
    const run = io({ evaluation: jsonl(reviews(50)), training: jsonl(reviews(10)) }, () => keywordModel('good'), {
      onHold: () => {
        control = CONTROL_CANCEL_FLAG;
      },
      control: () => control,
    });
    const outcome = await new EvaluationRun(start({ holdAtBatches: [2] }), run.handle).run();
    assert.deepEqual(outcome, { status: 'cancelled', rows: 20 });
    assert.deepEqual(run.held, [2]);
    assert.equal(run.lines.length, 20);
  });

  it('fails with a code when no row can be scored', async () => {
    const run = io({ evaluation: jsonl([{ text: 'good' }, { text: 'bad' }]) }, () => keywordModel('good'));
    const outcome = await new EvaluationRun(start({ training: null }), run.handle).run();
    assert.equal(outcome.status, 'failed');
    assert.equal((outcome as { code: string }).code, 'no_examples');
  });
});
