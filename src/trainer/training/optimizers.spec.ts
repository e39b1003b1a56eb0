import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  clipGradientsByGlobalNorm,
  createOptimizer,
  type Optimizer,
  type OptimizerConfig,
  optimizerStateSlots,
} from './optimizers.js';

// Every case starts from p = [1, -2] with lr 0.1 unless stated; g1 and g2 are the gradients of steps 1 and 2.
const P0 = [1, -2];
const G1 = [0.5, 1];
const G2 = [-1, 0.25];

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 2e-6): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])),
      `index ${i}: got ${actual[i]}, expected ${expected[i]} (all: ${Array.from(actual).join(', ')})`,
    );
  }
}

/** Runs the optimizer on a single parameter "w" with the given gradients and returns w after each step. */
function run(
  config: OptimizerConfig,
  gradients: number[][],
  lr = 0.1,
  start: number[] = P0,
  optimizer: Optimizer = createOptimizer(config),
): number[][] {
  const w = tf.variable(tf.tensor1d(start));
  const params = new Map([['w', w]]);
  const seen: number[][] = [];
  for (const g of gradients) {
    const grad = tf.tensor1d(g);
    optimizer.step(params, new Map([['w', grad]]), lr);
    grad.dispose();
    seen.push(Array.from(w.dataSync()));
  }
  w.dispose();
  optimizer.dispose();
  return seen;
}

describe('optimizers', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  describe('sgd', () => {
    it('plain: p - lr*g', () => {
      const [p1] = run({ name: 'sgd' }, [G1]);
      assertClose(p1, [1 - 0.1 * 0.5, -2 - 0.1 * 1]);
    });

    it('weight decay adds wd*p to the gradient', () => {
      // g' = [0.5 + 0.1*1, 1 + 0.1*(-2)] = [0.6, 0.8]
      const [p1] = run({ name: 'sgd', weightDecay: 0.1 }, [G1]);
      assertClose(p1, [1 - 0.1 * 0.6, -2 - 0.1 * 0.8]);
    });

    it('momentum: the first buffer is g itself, then mu*buf + g', () => {
      const [p1, p2] = run({ name: 'sgd', momentum: 0.9 }, [G1, G2]);
      assertClose(p1, [0.95, -2.1]);
      // buf2 = 0.9*[0.5, 1] + [-1, 0.25] = [-0.55, 1.15]
      assertClose(p2, [0.95 - 0.1 * -0.55, -2.1 - 0.1 * 1.15]);
    });

    it('nesterov over two steps: direction g + mu*buf', () => {
      const [p1, p2] = run({ name: 'sgd', momentum: 0.9, nesterov: true }, [G1, G2]);
      // step 1: buf = [0.5, 1], d = [0.5 + 0.45, 1 + 0.9] = [0.95, 1.9]
      assertClose(p1, [1 - 0.095, -2 - 0.19]);
      // step 2: buf = [-0.55, 1.15], d = [-1 + 0.9*-0.55, 0.25 + 0.9*1.15] = [-1.495, 1.285]
      assertClose(p2, [0.905 + 0.1495, -2.19 - 0.1285]);
    });

    it('momentum with weight decay decays before the buffer', () => {
      const [p1, p2] = run({ name: 'sgd', momentum: 0.5, weightDecay: 0.1 }, [G1, G2]);
      // step 1: g' = [0.6, 0.8] = buf; p1 = [0.94, -2.08]
      assertClose(p1, [0.94, -2.08]);
      // step 2: g' = [-1 + 0.094, 0.25 - 0.208] = [-0.906, 0.042]; buf = [0.3 - 0.906, 0.4 + 0.042] = [-0.606, 0.442]
      assertClose(p2, [0.94 + 0.0606, -2.08 - 0.0442]);
    });

    it('rejects nesterov without momentum', () => {
      assert.throws(() => createOptimizer({ name: 'sgd', nesterov: true }), /Nesterov/);
    });
  });

  describe('adam', () => {
    it('two steps with bias correction', () => {
      const [p1, p2] = run({ name: 'adam' }, [G1, G2]);
      // step 1: m = 0.1*g = [0.05, 0.1]; v = 0.001*g^2 = [0.00025, 0.001]
      // p -= (lr / (1 - 0.9)) * m / (sqrt(v) / sqrt(1 - 0.999) + 1e-8)  -> about lr*sign(g)
      const q1 = [
        1 - (0.1 / 0.1) * (0.05 / (Math.sqrt(0.00025) / Math.sqrt(0.001) + 1e-8)),
        -2 - (0.1 / 0.1) * (0.1 / (Math.sqrt(0.001) / Math.sqrt(0.001) + 1e-8)),
      ];
      assertClose(p1, q1);
      assertClose(p1, [0.9, -2.1], 1e-5);
      // step 2: m = [0.045 - 0.1, 0.09 + 0.025] = [-0.055, 0.115]
      //         v = [0.999*0.00025 + 0.001*1, 0.999*0.001 + 0.001*0.0625] = [0.00124975, 0.0010615]
      // bias corrections: 1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999
      assertClose(p2, [
        q1[0] - (0.1 / 0.19) * (-0.055 / (Math.sqrt(0.00124975) / Math.sqrt(0.001999) + 1e-8)),
        q1[1] - (0.1 / 0.19) * (0.115 / (Math.sqrt(0.0010615) / Math.sqrt(0.001999) + 1e-8)),
      ]);
    });

    it('adds epsilon after the bias-corrected square root', () => {
      const [p1] = run({ name: 'adam', epsilon: 0.1 }, [G1]);
      // sqrt(v)/sqrt(1 - 0.999) = |g| = [0.5, 1]; step size lr/(1 - 0.9) = 1
      assertClose(p1, [1 - 0.05 / (0.5 + 0.1), -2 - 0.1 / (1 + 0.1)]);
    });

    it('weight decay is L2 on the gradient (visible: it flips the update direction)', () => {
      const [p1, p2] = run({ name: 'adam', weightDecay: 0.1 }, [[-0.05, 0.1], G2]);
      // g' = [-0.05 + 0.1*1, 0.1 + 0.1*(-2)] = [0.05, -0.1]; m = [0.005, -0.01]; v = [0.0000025, 0.00001]
      const q1 = [
        1 - 1 * (0.005 / (Math.sqrt(0.0000025) / Math.sqrt(0.001) + 1e-8)),
        -2 - 1 * (-0.01 / (Math.sqrt(0.00001) / Math.sqrt(0.001) + 1e-8)),
      ];
      assertClose(p1, q1);
      assertClose(p1, [0.9, -1.9], 1e-5);
      // step 2: g' = [-1 + 0.1*q1[0], 0.25 + 0.1*q1[1]]
      const g = [-1 + 0.1 * q1[0], 0.25 + 0.1 * q1[1]];
      const m = [0.9 * 0.005 + 0.1 * g[0], 0.9 * -0.01 + 0.1 * g[1]];
      const v = [0.999 * 0.0000025 + 0.001 * g[0] ** 2, 0.999 * 0.00001 + 0.001 * g[1] ** 2];
      assertClose(p2, [
        q1[0] - (0.1 / 0.19) * (m[0] / (Math.sqrt(v[0]) / Math.sqrt(0.001999) + 1e-8)),
        q1[1] - (0.1 / 0.19) * (m[1] / (Math.sqrt(v[1]) / Math.sqrt(0.001999) + 1e-8)),
      ]);
    });
  });

  describe('adamw', () => {
    it('decoupled decay p *= 1 - lr*wd, then the adam step', () => {
      const [p1, p2] = run({ name: 'adamw', weightDecay: 0.5 }, [G1, G2]);
      // decay factor 1 - 0.1*0.5 = 0.95; the adam part is the same as in the plain adam test
      const q1 = [
        0.95 * 1 - 1 * (0.05 / (Math.sqrt(0.00025) / Math.sqrt(0.001) + 1e-8)),
        0.95 * -2 - 1 * (0.1 / (Math.sqrt(0.001) / Math.sqrt(0.001) + 1e-8)),
      ];
      assertClose(p1, q1);
      assertClose(p1, [0.85, -2.0], 1e-5);
      assertClose(p2, [
        0.95 * q1[0] - (0.1 / 0.19) * (-0.055 / (Math.sqrt(0.00124975) / Math.sqrt(0.001999) + 1e-8)),
        0.95 * q1[1] - (0.1 / 0.19) * (0.115 / (Math.sqrt(0.0010615) / Math.sqrt(0.001999) + 1e-8)),
      ]);
    });

    it('defaults to weight decay 0.01 and honours noDecay', () => {
      const optimizer = createOptimizer({ name: 'adamw' }, { noDecay: (name) => name.endsWith('.bias') });
      assert.equal(optimizer.config.weightDecay, 0.01);
      const weight = tf.variable(tf.tensor1d([2]));
      const bias = tf.variable(tf.tensor1d([2]));
      const params = new Map([
        ['dense.kernel', weight],
        ['dense.bias', bias],
      ]);
      const grads = new Map([
        ['dense.kernel', tf.tensor1d([1])],
        ['dense.bias', tf.tensor1d([1])],
      ]);
      optimizer.step(params, grads, 0.1);
      // adam part at step 1 with g = 1: 1 * 0.1 / (sqrt(0.001)/sqrt(0.001) + 1e-8) ~= 0.1
      assertClose(weight.dataSync(), [2 * (1 - 0.1 * 0.01) - 0.1 / (1 + 1e-8)]);
      assertClose(bias.dataSync(), [2 - 0.1 / (1 + 1e-8)]);
      tf.dispose([weight, bias, ...grads.values()]);
      optimizer.dispose();
    });
  });

  describe('rmsprop', () => {
    it('two steps: v = alpha*v + (1-alpha)*g^2, p -= lr*g/(sqrt(v)+eps)', () => {
      const [p1, p2] = run({ name: 'rmsprop' }, [G1, G2], 0.01);
      // v1 = 0.01*g^2 = [0.0025, 0.01]
      const q1 = [1 - (0.01 * 0.5) / (Math.sqrt(0.0025) + 1e-8), -2 - (0.01 * 1) / (Math.sqrt(0.01) + 1e-8)];
      assertClose(p1, q1);
      assertClose(p1, [0.9, -2.1], 1e-5);
      // v2 = [0.99*0.0025 + 0.01*1, 0.99*0.01 + 0.01*0.0625] = [0.012475, 0.010525]
      assertClose(p2, [
        q1[0] - (0.01 * -1) / (Math.sqrt(0.012475) + 1e-8),
        q1[1] - (0.01 * 0.25) / (Math.sqrt(0.010525) + 1e-8),
      ]);
    });

    it('momentum: buf = mu*buf + g/(sqrt(v)+eps) with buf starting at zero', () => {
      const [p1, p2] = run({ name: 'rmsprop', momentum: 0.9 }, [G1, G2], 0.01);
      const b1 = [0.5 / (Math.sqrt(0.0025) + 1e-8), 1 / (Math.sqrt(0.01) + 1e-8)]; // ~[10, 10]
      const q1 = [1 - 0.01 * b1[0], -2 - 0.01 * b1[1]];
      assertClose(p1, q1);
      const b2 = [0.9 * b1[0] + -1 / (Math.sqrt(0.012475) + 1e-8), 0.9 * b1[1] + 0.25 / (Math.sqrt(0.010525) + 1e-8)];
      assertClose(p2, [q1[0] - 0.01 * b2[0], q1[1] - 0.01 * b2[1]]);
    });

    it('weight decay is L2 on the gradient', () => {
      // A large epsilon also pins down where it goes: outside the square root.
      const [p1] = run({ name: 'rmsprop', weightDecay: 0.1, alpha: 0.9, epsilon: 0.1 }, [G1], 0.01);
      // g' = [0.6, 0.8]; v = 0.1*g'^2 = [0.036, 0.064]
      assertClose(p1, [1 - (0.01 * 0.6) / (Math.sqrt(0.036) + 0.1), -2 - (0.01 * 0.8) / (Math.sqrt(0.064) + 0.1)]);
    });
  });

  describe('adagrad', () => {
    it('two steps: sum += g^2, p -= lr*g/(sqrt(sum)+eps)', () => {
      const [p1, p2] = run({ name: 'adagrad' }, [G1, G2]);
      // sum1 = [0.25, 1]
      const q1 = [1 - (0.1 * 0.5) / (Math.sqrt(0.25) + 1e-10), -2 - (0.1 * 1) / (Math.sqrt(1) + 1e-10)];
      assertClose(p1, q1);
      assertClose(p1, [0.9, -2.1], 1e-6);
      // sum2 = [0.25 + 1, 1 + 0.0625] = [1.25, 1.0625]
      assertClose(p2, [
        q1[0] - (0.1 * -1) / (Math.sqrt(1.25) + 1e-10),
        q1[1] - (0.1 * 0.25) / (Math.sqrt(1.0625) + 1e-10),
      ]);
    });

    it('initial accumulator and weight decay', () => {
      const [p1] = run({ name: 'adagrad', initialAccumulatorValue: 0.1, weightDecay: 0.1, epsilon: 0.1 }, [G1]);
      // g' = [0.6, 0.8]; sum = [0.1 + 0.36, 0.1 + 0.64] = [0.46, 0.74]
      assertClose(p1, [1 - (0.1 * 0.6) / (Math.sqrt(0.46) + 0.1), -2 - (0.1 * 0.8) / (Math.sqrt(0.74) + 0.1)]);
    });
  });

  describe('shared behaviour', () => {
    it('leaves parameters without a gradient untouched and counts every step', () => {
      const optimizer = createOptimizer({ name: 'sgd', momentum: 0.9 });
      const a = tf.variable(tf.tensor1d([1, 2]));
      const b = tf.variable(tf.tensor1d([3]));
      const params = new Map([
        ['a', a],
        ['b', b],
      ]);
      const grad = tf.tensor1d([1, 1]);
      optimizer.step(params, new Map([['a', grad]]), 0.5);
      optimizer.step(params, new Map(), 0.5);
      assert.equal(optimizer.iterations, 2);
      assert.equal(optimizer.getState().step, 2);
      assertClose(a.dataSync(), [0.5, 1.5]);
      assertClose(b.dataSync(), [3]);
      tf.dispose([a, b, grad]);
      optimizer.dispose();
    });

    it('rejects unknown parameters and wrong shapes without changing anything', () => {
      const optimizer = createOptimizer({ name: 'sgd' });
      const a = tf.variable(tf.tensor1d([1, 2]));
      const params = new Map([['a', a]]);
      const good = tf.tensor1d([1, 1]);
      const bad = tf.tensor1d([1, 1, 1]);
      assert.throws(
        () =>
          optimizer.step(
            params,
            new Map([
              ['a', good],
              ['zzz', good],
            ]),
            0.1,
          ),
        /unknown parameter "zzz"/,
      );
      assert.throws(() => optimizer.step(params, new Map([['a', bad]]), 0.1), /shape \[3\].*\[2\]/);
      assert.throws(() => optimizer.step(params, new Map([['a', good]]), -1), /Learning rate/);
      assertClose(a.dataSync(), [1, 2]);
      assert.equal(optimizer.iterations, 0);
      tf.dispose([a, good, bad]);
      optimizer.dispose();
    });

    it('does not leak tensors across steps', () => {
      for (const config of [
        { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.1 },
        { name: 'adam', weightDecay: 0.1 },
        { name: 'adamw' },
        { name: 'rmsprop', momentum: 0.5 },
        { name: 'adagrad' },
      ] satisfies OptimizerConfig[]) {
        const optimizer = createOptimizer(config);
        const w = tf.variable(tf.tensor1d(P0));
        const params = new Map([['w', w]]);
        const grad = tf.tensor1d(G1);
        optimizer.step(params, new Map([['w', grad]]), 0.1);
        const after = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) {
          optimizer.step(params, new Map([['w', grad]]), 0.1);
        }
        assert.equal(tf.memory().numTensors, after, config.name);
        const before = tf.memory().numTensors;
        optimizer.dispose();
        assert.equal(tf.memory().numTensors, before - optimizerStateSlots(config), config.name);
        tf.dispose([w, grad]);
      }
    });

    it('counts state slots per parameter for memory estimates', () => {
      assert.equal(optimizerStateSlots({ name: 'sgd' }), 0);
      assert.equal(optimizerStateSlots({ name: 'sgd', momentum: 0.9 }), 1);
      assert.equal(optimizerStateSlots({ name: 'adam' }), 2);
      assert.equal(optimizerStateSlots({ name: 'adamw' }), 2);
      assert.equal(optimizerStateSlots({ name: 'rmsprop' }), 1);
      assert.equal(optimizerStateSlots({ name: 'rmsprop', momentum: 0.9 }), 2);
      assert.equal(optimizerStateSlots({ name: 'adagrad' }), 1);
      const adam = createOptimizer({ name: 'adam' });
      assert.equal(adam.stateBytes(1000), 2 * 1000 * 4);
      adam.dispose();
    });

    it('resolves PyTorch defaults and validates ranges', () => {
      assert.deepEqual(createOptimizer({ name: 'adagrad' }).config, {
        name: 'adagrad',
        momentum: 0,
        nesterov: false,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-10,
        weightDecay: 0,
        alpha: 0.99,
        initialAccumulatorValue: 0,
      });
      assert.equal(createOptimizer({ name: 'adam' }).config.epsilon, 1e-8);
      assert.throws(() => createOptimizer({ name: 'adam', beta2: 1 }), /beta2/);
      assert.throws(() => createOptimizer({ name: 'sgd', momentum: -0.1 }), /momentum/);
      assert.throws(() => createOptimizer({ name: 'lion' as 'sgd' }), /Unknown optimizer/);
    });
  });

  describe('state round trip', () => {
    const configs: OptimizerConfig[] = [
      { name: 'sgd', momentum: 0.9, nesterov: true },
      { name: 'adam', weightDecay: 0.05 },
      { name: 'adamw' },
      { name: 'rmsprop', momentum: 0.7 },
      { name: 'adagrad', initialAccumulatorValue: 0.2 },
    ];
    for (const config of configs) {
      it(`a fresh ${config.name} given the state continues identically`, () => {
        const gradients = [G1, G2, [0.3, -0.7], [2, 0.1]];
        // Reference: one optimizer for all four steps.
        const reference = run(config, gradients);

        // Two steps, save, continue on a fresh optimizer from the saved parameters.
        const first = createOptimizer(config);
        const w = tf.variable(tf.tensor1d(P0));
        for (const g of gradients.slice(0, 2)) {
          const grad = tf.tensor1d(g);
          first.step(new Map([['w', w]]), new Map([['w', grad]]), 0.1);
          grad.dispose();
        }
        const state = first.getState();
        const saved = Array.from(w.dataSync());
        first.dispose();
        w.dispose();

        const second = createOptimizer(config);
        const restored = tf.variable(tf.tensor1d(saved));
        second.setState(state, new Map([['w', restored]]));
        // setState copies, so the caller may dispose what it passed in.
        tf.dispose([...state.tensors.values()]);
        assert.equal(second.iterations, 2);
        const continued = run(config, gradients.slice(2), 0.1, saved, second);
        assertClose(continued[0], reference[2], 1e-6);
        assertClose(continued[1], reference[3], 1e-6);
        restored.dispose();
      });
    }

    it('stores PyTorch slot names and a per-parameter adam step', () => {
      const optimizer = createOptimizer({ name: 'adam' });
      const a = tf.variable(tf.tensor1d([1, 2]));
      const b = tf.variable(tf.tensor1d([3]));
      const params = new Map([
        ['layer.0.a', a],
        ['b', b],
      ]);
      const ga = tf.tensor1d([1, 1]);
      const gb = tf.tensor1d([1]);
      optimizer.step(params, new Map([['layer.0.a', ga]]), 0.1);
      optimizer.step(
        params,
        new Map<string, tf.Tensor>([
          ['layer.0.a', ga],
          ['b', gb],
        ]),
        0.1,
      );
      const state = optimizer.getState();
      assert.equal(state.step, 2);
      assert.deepEqual([...state.tensors.keys()].sort(), [
        'b.exp_avg',
        'b.exp_avg_sq',
        'b.step',
        'layer.0.a.exp_avg',
        'layer.0.a.exp_avg_sq',
        'layer.0.a.step',
      ]);
      assert.equal(state.tensors.get('layer.0.a.step')?.dataSync()[0], 2);
      // b joined late, so its first update gets the step-1 bias correction: about lr * sign(g).
      assertClose(b.dataSync(), [3 - 0.1 / (1 + 1e-8)]);
      assert.equal(state.tensors.get('b.step')?.dataSync()[0], 1);
      tf.dispose([a, b, ga, gb, ...state.tensors.values()]);
      optimizer.dispose();
    });

    it('rejects state that does not fit', () => {
      const adam = createOptimizer({ name: 'adam' });
      const w = tf.variable(tf.tensor1d([1, 2]));
      const g = tf.tensor1d([1, 1]);
      adam.step(new Map([['w', w]]), new Map([['w', g]]), 0.1);
      const state = adam.getState();

      const sgd = createOptimizer({ name: 'sgd', momentum: 0.9 });
      assert.throws(() => sgd.setState(state), /does not belong to sgd with momentum/);

      const other = createOptimizer({ name: 'adam' });
      const wrongShape = tf.variable(tf.tensor1d([1, 2, 3]));
      assert.throws(() => other.setState(state, new Map([['w', wrongShape]])), /shape \[2\], expected \[3\]/);
      assert.throws(() => other.setState(state, new Map([['v', wrongShape]])), /unknown parameter "w"/);

      const partial = { step: 1, tensors: new Map([['w.exp_avg', tf.zeros([2])]]) };
      assert.throws(() => other.setState(partial), /missing exp_avg_sq/);

      // Without params the shape check happens at the next step, before anything changes.
      other.setState(state);
      assert.throws(
        () => other.step(new Map([['w', wrongShape]]), new Map([['w', tf.ones([3])]]), 0.1),
        /state "w.exp_avg" has shape \[2\]/,
      );
      tf.dispose([w, g, wrongShape, ...state.tensors.values(), ...partial.tensors.values()]);
      for (const o of [adam, sgd, other]) {
        o.dispose();
      }
    });
  });

  describe('clipGradientsByGlobalNorm', () => {
    it('scales by maxNorm / (norm + 1e-6) when over the limit', () => {
      const grads = new Map([
        ['a', tf.tensor1d([3, 4])],
        ['b', tf.tensor1d([12])],
      ]);
      // norm = sqrt(9 + 16 + 144) = 13
      const { grads: clipped, norm } = clipGradientsByGlobalNorm(grads, 6.5);
      assertClose([norm], [13]);
      const c = 6.5 / (13 + 1e-6);
      assertClose(clipped.get('a')?.dataSync() ?? [], [3 * c, 4 * c]);
      assertClose(clipped.get('b')?.dataSync() ?? [], [12 * c]);
      tf.dispose([...grads.values(), ...clipped.values()]);
    });

    it('returns unscaled copies under the limit and for a non-finite norm', () => {
      const grads = new Map([['a', tf.tensor1d([3, 4])]]);
      const under = clipGradientsByGlobalNorm(grads, 10);
      assertClose([under.norm], [5]);
      assert.notEqual(under.grads.get('a'), grads.get('a'));
      assertClose(under.grads.get('a')?.dataSync() ?? [], [3, 4]);

      const broken = new Map([['a', tf.tensor1d([NaN, 1])]]);
      const result = clipGradientsByGlobalNorm(broken, 1);
      assert.ok(Number.isNaN(result.norm));
      assert.equal(result.grads.get('a')?.dataSync()[1], 1);
      assert.equal(clipGradientsByGlobalNorm(new Map(), 1).norm, 0);
      assert.throws(() => clipGradientsByGlobalNorm(grads, 0), /maxNorm/);
      tf.dispose([...grads.values(), ...under.grads.values(), ...broken.values(), ...result.grads.values()]);
    });
  });
});
