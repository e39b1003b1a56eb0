import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelVersionEntity } from '../model-version.entity.js';
import { compare, MetricGate } from './metric.gate.js';
import { NoPersonalDataGate } from './no-personal-data.gate.js';
import type { GateFacts, TrainingDataFact } from './promotion-gate.js';
import { TrainingDataQualityGate } from './training-data-quality.gate.js';

function facts(data: TrainingDataFact[], metrics: Record<string, unknown> = {}): GateFacts {
  return { candidate: { metrics } as ModelVersionEntity, trainingData: () => Promise.resolve(data) };
}
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
});
