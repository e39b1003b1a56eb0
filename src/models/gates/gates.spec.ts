import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelVersionEntity } from '../model-version.entity.js';
import { compare, MetricGate } from './metric.gate.js';
import { NoPersonalDataGate } from './no-personal-data.gate.js';
import { EvaluationMetricGate, HeldOutEvaluationGate, ImprovesOnAliasGate } from './evaluation.gates.js';
import type { EvaluationFact, GateFacts, TrainingDataFact } from './promotion-gate.js';
import { TrainingDataQualityGate } from './training-data-quality.gate.js';

function facts(
  data: TrainingDataFact[],
  metrics: Record<string, unknown> = {},
  more: Partial<GateFacts> = {},
): GateFacts {
  return {
    candidate: { id: 'candidate', version: 3, metrics } as ModelVersionEntity,
    current: null,
    trainingData: () => Promise.resolve(data),
    datasetVersionId: (ref) => Promise.resolve(ref.name === 'reviews' ? `dv-${ref.version}` : null),
    lineageDataVersionIds: () => Promise.resolve(new Set(['dv-1', 'dv-2'])),
    evaluation: () => Promise.resolve(null),
    ...more,
  };
}
function evaluationFact(
  metrics: Record<string, unknown>,
  differences: EvaluationFact['differences'] = null,
): EvaluationFact {
  return { evaluationId: 'evaluation-1', finishedAt: new Date(0), examples: 100, metrics, differences };
}
const interval = (lower: number, upper: number, confidence = 0.95) => ({
  estimate: (lower + upper) / 2,
  lower,
  upper,
  confidence,
});
function fact(overrides: Partial<TrainingDataFact>): TrainingDataFact {
  return {
    datasetVersionId: '00000000-0000-4000-8000-000000000001',
    datasetName: 'reviews',
    version: 1,
    qualityVerdict: 'pass',
    rowsWithPersonalData: 0,
    personalDataTypes: {},
    ...overrides,
  };
}

describe('promotion gates', () => {
  it('training_data_quality_passed: every version pass; warn, fail, no report or no data fail', async () => {
    const gate = new TrainingDataQualityGate();
    assert.equal((await gate.check({}, facts([fact({})]))).passed, true);
    for (const verdict of ['warn', 'fail', null] as const) {
      const outcome = await gate.check({}, facts([fact({}), fact({ version: 2, qualityVerdict: verdict })]));
      assert.equal(outcome.passed, false);
      assert.match(outcome.detail, /reviews v2/);
    }
    assert.match((await gate.check({}, facts([]))).detail, /imported/);
  });

  it('no_personal_data: any row with personal data, or a missing report, fails', async () => {
    const gate = new NoPersonalDataGate();
    assert.equal((await gate.check({}, facts([fact({})]))).passed, true);
    const found = await gate.check({}, facts([fact({ rowsWithPersonalData: 3, personalDataTypes: { email: 3 } })]));
    assert.equal(found.passed, false);
    assert.match(found.detail, /3 row\(s\)/);
    assert.equal((await gate.check({}, facts([fact({ rowsWithPersonalData: null })]))).passed, false);
    assert.equal((await gate.check({}, facts([]))).passed, false);
  });

  it('metric: compares the training metric; a missing or non-numeric one fails and names those there are', async () => {
    const gate = new MetricGate();
    const rule = {
      kind: 'metric' as const,
      source: 'training' as const,
      metric: 'accuracy',
      op: '>=' as const,
      value: 0.9,
    };
    assert.equal((await gate.check(rule, facts([], { accuracy: 0.95 }))).passed, true);
    const low = await gate.check(rule, facts([], { accuracy: 0.5 }));
    assert.equal(low.passed, false);
    assert.deepEqual(low.figures, { source: 'training', metric: 'accuracy', op: '>=', threshold: 0.9, actual: 0.5 });
    const missing = await gate.check(rule, facts([], { loss: 0.3 }));
    assert.equal(missing.passed, false);
    assert.match(missing.detail, /no accuracy \(they have loss\)/);
    assert.equal((await gate.check(rule, facts([], { accuracy: 'high' }))).passed, false);
    assert.deepEqual(
      (['>=', '>', '<=', '<', '=='] as const).map((op) => compare(1, op, 1)),
      [true, false, true, false, true],
    );
  });

  it('evaluation_metric: reads the latest evaluation on the dataset version; none, or no such data, fails', async () => {
    const gate = new EvaluationMetricGate();
    const rule = {
      kind: 'evaluation_metric' as const,
      dataset: { name: 'reviews', version: 4 },
      metric: 'f1Macro',
      op: '>=' as const,
      value: 0.8,
    };
    const asked: string[] = [];
    const good = await gate.check(
      rule,
      facts(
        [],
        {},
        {
          evaluation: (id) => {
            asked.push(id);
            return Promise.resolve(evaluationFact({ f1Macro: 0.85 }));
          },
        },
      ),
    );
    assert.equal(good.passed, true);
    assert.deepEqual(asked, ['dv-4']);
    assert.equal(good.figures.actual, 0.85);
    const low = await gate.check(
      rule,
      facts([], {}, { evaluation: () => Promise.resolve(evaluationFact({ f1Macro: 0.7 })) }),
    );
    assert.equal(low.passed, false);
    assert.match((await gate.check(rule, facts([]))).detail, /no succeeded evaluation on reviews v4/);
    const unknown = await gate.check({ ...rule, dataset: { name: 'other', version: 1 } }, facts([]));
    assert.equal(unknown.passed, false);
    assert.match(unknown.detail, /no dataset version other v1/);
  });

  it('improves_on_alias: the interval must exclude zero on the better side, at the confidence asked', async () => {
    const gate = new ImprovesOnAliasGate();
    const rule = { kind: 'improves_on_alias' as const, dataset: { name: 'reviews', version: 4 }, metric: 'accuracy' };
    const current = { id: 'current', version: 2 } as ModelVersionEntity;
    const withDifference = (metric: string, lower: number, upper: number, confidence = 0.95) =>
      facts(
        [],
        {},
        {
          current,
          evaluation: (_id, comparedWith) =>
            Promise.resolve(
              comparedWith === 'current' ? evaluationFact({}, { [metric]: interval(lower, upper, confidence) }) : null,
            ),
        },
      );
    // Nothing to beat yet.
    assert.equal((await gate.check(rule, facts([]))).passed, true);
    assert.equal((await gate.check(rule, withDifference('accuracy', 0.01, 0.05))).passed, true);
    const overlaps = await gate.check(rule, withDifference('accuracy', -0.01, 0.05));
    assert.equal(overlaps.passed, false);
    assert.match(overlaps.detail, /not significantly better than v2/);
    // Losses and errors improve downwards.
    const lossRule = { ...rule, metric: 'logLoss' };
    assert.equal((await gate.check(lossRule, withDifference('logLoss', -0.3, -0.1))).passed, true);
    assert.equal((await gate.check(lossRule, withDifference('logLoss', 0.1, 0.3))).passed, false);
    // An interval at a lower confidence than asked does not count.
    const loose = await gate.check({ ...rule, confidence: 0.99 }, withDifference('accuracy', 0.01, 0.05, 0.95));
    assert.equal(loose.passed, false);
    assert.match(loose.detail, /0.95 confidence; the gate asks for 0.99/);
    // No comparison with the alias's version: fails and says what to run.
    const none = await gate.check(rule, facts([], {}, { current }));
    assert.equal(none.passed, false);
    assert.match(none.detail, /baseline version 2/);
  });

  it('held_out_evaluation: evaluated on a version no job of the lineage trained or validated on', async () => {
    const gate = new HeldOutEvaluationGate();
    const evaluated = { evaluation: () => Promise.resolve(evaluationFact({ accuracy: 0.9 })) };
    const heldOut = await gate.check(
      { kind: 'held_out_evaluation', dataset: { name: 'reviews', version: 4 } },
      facts([], {}, evaluated),
    );
    assert.equal(heldOut.passed, true);
    const trainedOn = await gate.check(
      { kind: 'held_out_evaluation', dataset: { name: 'reviews', version: 2 } },
      facts([], {}, evaluated),
    );
    assert.equal(trainedOn.passed, false);
    assert.match(trainedOn.detail, /not held out/);
    const notEvaluated = await gate.check(
      { kind: 'held_out_evaluation', dataset: { name: 'reviews', version: 4 } },
      facts([]),
    );
    assert.equal(notEvaluated.passed, false);
  });
});
