import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  disposeParameters,
  exportParameters,
  importParameters,
  initializeParameters,
  parameterCount,
  parameterSeed,
  setTrainable,
  type ImportedTensor,
  type ParameterSpec,
} from './parameters.js';

const specs: ParameterSpec[] = [
  { name: 'a.weight', shape: [3, 4], init: 'normal', std: 0.5, decay: true },
  { name: 'b.weight', shape: [3, 4], init: 'normal', std: 0.5, decay: true },
  { name: 'a.bias', shape: [4], init: 'zeros', decay: false },
  { name: 'ln.weight', shape: [4], init: 'ones', decay: false },
  { name: 'u.weight', shape: [200], init: 'uniform', bound: 0.25, decay: true },
];

function tensorOf(shape: number[], fill = 1): ImportedTensor {
  return { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) };
}

describe('parameters', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('counts parameters', () => {
    assert.equal(parameterCount(specs), 12 + 12 + 4 + 4 + 200);
  });

  it('derives per-parameter seeds from the global seed and the name', () => {
    assert.equal(parameterSeed(1, 'a.weight'), parameterSeed(1, 'a.weight'));
    assert.notEqual(parameterSeed(1, 'a.weight'), parameterSeed(2, 'a.weight'));
    assert.notEqual(parameterSeed(1, 'a.weight'), parameterSeed(1, 'b.weight'));
  });

  it('initialises reproducibly and independently of the other parameters', () => {
    const first = exportParameters(initializeParameters(specs, 42));
    const again = exportParameters(initializeParameters(specs, 42));
    const alone = exportParameters(initializeParameters([specs[1]], 42));
    const other = exportParameters(initializeParameters(specs, 43));
    assert.deepEqual(first.get('a.weight')?.data, again.get('a.weight')?.data);
    assert.deepEqual(first.get('b.weight')?.data, alone.get('b.weight')?.data);
    assert.notDeepEqual(first.get('a.weight')?.data, first.get('b.weight')?.data);
    assert.notDeepEqual(first.get('a.weight')?.data, other.get('a.weight')?.data);
    assert.deepEqual([...(first.get('a.bias')?.data ?? [])], [0, 0, 0, 0]);
    assert.deepEqual([...(first.get('ln.weight')?.data ?? [])], [1, 1, 1, 1]);
    const uniform = first.get('u.weight')?.data ?? new Float32Array();
    assert.ok(uniform.every((value) => value >= -0.25 && value < 0.25));
    assert.ok(Math.max(...uniform) > 0.2 && Math.min(...uniform) < -0.2);
  });

  it('exports copies with the safetensors NamedTensor shape', () => {
    const params = initializeParameters(specs, 1);
    const exported = exportParameters(params);
    assert.deepEqual(
      [...exported.keys()],
      specs.map((spec) => spec.name),
    );
    const bias = exported.get('a.bias');
    assert.deepEqual(bias && { dtype: bias.dtype, shape: bias.shape }, { dtype: 'F32', shape: [4] });
    params.get('a.bias')?.assign(tf.ones([4]));
    assert.deepEqual([...(bias?.data ?? [])], [0, 0, 0, 0]);
    disposeParameters(params);
    assert.equal(params.size, 0);
  });

  it('imports what it exported', () => {
    const exported = exportParameters(initializeParameters(specs, 5));
    const { params, initialized, ignored } = importParameters(specs, exported, { strict: true });
    assert.deepEqual(initialized, []);
    assert.deepEqual(ignored, []);
    assert.deepEqual(exportParameters(params), exported);
  });

  it('reports every missing, unexpected, mis-shaped and mistyped tensor in one error', () => {
    const tensors = new Map<string, ImportedTensor>([
      ['a.weight', tensorOf([4, 3])],
      ['b.weight', { dtype: 'F16', shape: [3, 4], data: new Float32Array(12) }],
      ['a.bias', { dtype: 'F32', shape: [4], data: new Float32Array(3) }],
      ['extra.weight', tensorOf([2])],
    ]);
    assert.throws(
      () => importParameters(specs, tensors, { strict: true }),
      (error: Error) => {
        assert.match(error.message, /a\.weight: shape \[4, 3\], expected \[3, 4\]/);
        assert.match(error.message, /b\.weight: dtype F16, expected F32/);
        assert.match(error.message, /a\.bias: 3 values for shape \[4\]/);
        assert.match(error.message, /missing: ln\.weight, u\.weight/);
        assert.match(error.message, /unexpected: extra\.weight/);
        return true;
      },
    );
  });

  it('when not strict, initialises missing tensors from their spec and ignores unexpected ones', () => {
    const tensors = new Map<string, ImportedTensor>([
      ['a.weight', tensorOf([3, 4], 2)],
      ['b.weight', tensorOf([3, 4], 3)],
      ['a.bias', tensorOf([4], 4)],
      ['lm_head.extra', tensorOf([1])],
    ]);
    const { params, initialized, ignored } = importParameters(specs, tensors, { strict: false, seed: 9 });
    assert.deepEqual(initialized, ['ln.weight', 'u.weight']);
    assert.deepEqual(ignored, ['lm_head.extra']);
    assert.deepEqual([...(params.get('ln.weight')?.dataSync() ?? [])], [1, 1, 1, 1]);
    assert.equal(params.get('a.weight')?.dataSync()[0], 2);
    const fresh = exportParameters(initializeParameters(specs, 9)).get('u.weight');
    assert.deepEqual(params.get('u.weight')?.dataSync(), fresh?.data);
    // Shape errors are never ignored.
    assert.throws(
      () => importParameters(specs, new Map([['a.weight', tensorOf([12])]]), { strict: false }),
      /a\.weight: shape \[12\], expected \[3, 4\]/,
    );
  });

  it('marks trainable variables', () => {
    const params = initializeParameters(specs, 1);
    const trainable = setTrainable(params, new Set(['a.weight', 'a.bias']));
    assert.equal(trainable.length, 2);
    assert.equal(params.get('b.weight')?.trainable, false);
    assert.equal(params.get('a.bias')?.trainable, true);
  });
});
