import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputProblems, modelInputsOf } from './prediction-inputs.js';

describe('prediction inputs', () => {
  const tabular = modelInputsOf(
    {
      dataTask: 'regression',
      schema: { inputFields: ['age', 'city', 'pixels'], labelField: 'price' },
      features: {
        fields: [
          { field: 'age', kind: 'numeric', mean: 40, std: 10 },
          { field: 'city', kind: 'categorical', categories: ['paris'] },
          { field: 'pixels', kind: 'vector', length: 2, mean: [0, 0], std: [1, 1] },
        ],
      },
    },
    'regression',
  );

  it('accepts inputs that fit, with or without the label field', () => {
    assert.deepEqual(inputProblems(tabular, [{ age: 31, city: 'oslo', pixels: [1, 2] }]), []);
    assert.deepEqual(inputProblems(tabular, [{ age: '31', city: 3, pixels: [1, 2], price: 9 }]), []);
  });

  it('names the input and field of every problem', () => {
    assert.deepEqual(
      inputProblems(tabular, [
        { age: 'old', city: { a: 1 }, pixels: [1] },
        { city: 'x', pixels: [1, 2], colour: 'red' },
      ]).map((problem) => problem.field),
      ['inputs.0.age', 'inputs.0.city', 'inputs.0.pixels', 'inputs.1.age', 'inputs.1.colour'],
    );
  });

  it('reads text models by their data task, defaulting for imported ones', () => {
    const imported = modelInputsOf({ family: 'gpt2' }, 'causal-lm');
    assert.deepEqual(imported.schema.inputFields, ['text']);
    assert.deepEqual(inputProblems(imported, [{ text: 'once upon' }]), []);
    assert.equal(inputProblems(imported, [{ text: ['a'] }])[0].field, 'inputs.0.text');
    const chat = modelInputsOf({ dataTask: 'chat', schema: { inputFields: ['messages'] } }, 'causal-lm');
    assert.deepEqual(inputProblems(chat, [{ messages: [{ role: 'user', content: 'hi' }] }]), []);
    assert.equal(inputProblems(chat, [{ messages: 'hi' }]).length, 1);
  });
});
