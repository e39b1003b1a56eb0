import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatasetRef } from '../trainer/runtime/training-spec.js';
import { buildTrainingSpec, inputFieldKindsOf, SpecProblems, type SpecInputs } from './job-spec-builder.js';

const ref = (version: number): DatasetRef => ({
  datasetVersionId: `00000000-0000-4000-8000-00000000000${version}`,
  datasetId: '00000000-0000-4000-8000-000000000000',
  version,
  artifactKey: `datasets/x/blobs/${version}`,
  format: 'jsonl',
  compression: 'none',
  sha256: '0'.repeat(64),
});

function inputs(family: 'mlp' | 'gpt2', extra: Partial<SpecInputs> = {}): SpecInputs {
  return {
    request: {
      model: { family },
      trainingData: { datasetId: ref(1).datasetId, version: 1 },
      outputModelName: 'digits',
    },
    datasetTask: 'classification',
    schema: { inputFields: ['pixels'], labelField: 'label' },
    training: ref(1),
    validation: null,
    baseModel: null,
    inputFieldKinds: { pixels: { kind: 'vector', length: 64 } },
    ...extra,
  };
}

function problems(build: () => unknown): { field?: string; reason: string }[] {
  try {
    build();
  } catch (error) {
    if (error instanceof SpecProblems) {
      return error.problems;
    }
    throw error;
  }
  return [];
}

describe('buildTrainingSpec: input fields', () => {
  it('trains an mlp on vector fields', () => {
    assert.equal(buildTrainingSpec(inputs('mlp')).family, 'mlp');
  });

  it('refuses a gpt2 model on vector fields, naming the fields', () => {
    assert.deepEqual(
      problems(() => buildTrainingSpec(inputs('gpt2'))),
      [
        {
          field: 'model.family',
          reason: 'input field "pixels" holds vectors of numbers, which the mlp family reads; gpt2 reads text',
        },
      ],
    );
  });

  it('refuses validation data whose vectors have another length', () => {
    const validation = {
      validation: ref(2),
      validationInputFieldKinds: { pixels: { kind: 'vector' as const, length: 49 } },
    };
    assert.deepEqual(
      problems(() => buildTrainingSpec(inputs('mlp', validation))),
      [
        {
          field: 'validationData',
          reason:
            'input field "pixels" holds vectors of 64 numbers in the training data but 49 numbers in the validation data',
        },
      ],
    );
    const same = { validation: ref(2), validationInputFieldKinds: { pixels: { kind: 'vector' as const, length: 64 } } };
    assert.deepEqual(
      problems(() => buildTrainingSpec(inputs('mlp', same))),
      [],
    );
  });

  it('reads the field kinds of a stored quality report', () => {
    assert.deepEqual(
      inputFieldKindsOf({
        features: {
          fields: {
            pixels: { kind: 'vector', length: 784, min: 0 },
            area: { kind: 'numeric', count: 3 },
            note: { kind: 'text', missing: 0 },
            odd: { kind: 'mystery' },
          },
        },
      }),
      { pixels: { kind: 'vector', length: 784 }, area: { kind: 'numeric' }, note: { kind: 'text' } },
    );
    assert.deepEqual(inputFieldKindsOf(null), {});
    assert.deepEqual(inputFieldKindsOf({ diversity: {} }), {});
  });
});
