import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  causalLmLoss,
  gpt2HeadOutput,
  gpt2Hidden,
  gpt2LmLogits,
  gpt2ParameterSpecs,
  inferGpt2Config,
  normalizeGpt2StateDict,
  normalizeGpt2Tensors,
  poolLastToken,
  trainableParameterNames,
  type Gpt2Config,
} from './gpt2.js';
import {
  exportParameters,
  importParameters,
  initializeParameters,
  type ImportedTensor,
  type ParameterMap,
} from './parameters.js';

const tiny: Gpt2Config = {
  vocabSize: 10,
  nPositions: 6,
  nEmbd: 8,
  nLayer: 2,
  nHead: 2,
  layerNormEpsilon: 1e-5,
  dropout: 0.1,
};

/** GPT2Model.state_dict() of transformers for a 2-layer model, minus the attn.bias buffers. */
const HF_GPT2_TWO_LAYERS: Array<[string, number[]]> = [
  ['wte.weight', [10, 8]],
  ['wpe.weight', [6, 8]],
  ...[0, 1].flatMap((i): Array<[string, number[]]> => [
    [`h.${i}.ln_1.weight`, [8]],
    [`h.${i}.ln_1.bias`, [8]],
    [`h.${i}.attn.c_attn.weight`, [8, 24]],
    [`h.${i}.attn.c_attn.bias`, [24]],
    [`h.${i}.attn.c_proj.weight`, [8, 8]],
    [`h.${i}.attn.c_proj.bias`, [8]],
    [`h.${i}.ln_2.weight`, [8]],
    [`h.${i}.ln_2.bias`, [8]],
    [`h.${i}.mlp.c_fc.weight`, [8, 32]],
    [`h.${i}.mlp.c_fc.bias`, [32]],
    [`h.${i}.mlp.c_proj.weight`, [32, 8]],
    [`h.${i}.mlp.c_proj.bias`, [8]],
  ]),
  ['ln_f.weight', [8]],
  ['ln_f.bias', [8]],
];

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

// ---- An independent GPT-2 forward in plain JS loops, for the known-value test. ----

type Matrix = number[][];

function matrix(data: Float32Array, rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
}

function refLayerNorm(x: number[], w: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]);
}

/** x [in] @ W [in,out] + b, with W row-major as GPT-2's Conv1D stores it. */
function refConv1d(x: number[], w: Matrix, b: ArrayLike<number>): number[] {
  return w[0].map((_, j) => x.reduce((s, v, i) => s + v * w[i][j], b[j]));
}

function refGelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

function referenceForward(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  config: Gpt2Config,
  ids: number[],
): { hidden: Matrix; logits: Matrix } {
  const get = (name: string) => {
    const tensor = weights.get(name);
    assert.ok(tensor, name);
    return tensor;
  };
  const mat = (name: string) => {
    const { shape, data } = get(name);
    return matrix(data, shape[0], shape[1]);
  };
  const vec = (name: string) => get(name).data;
  const d = config.nEmbd;
  const headDim = d / config.nHead;
  const eps = config.layerNormEpsilon;
  const wte = mat('wte.weight');
  const wpe = mat('wpe.weight');
  let x = ids.map((id, t) => wte[id].map((v, i) => v + wpe[t][i]));
  for (let layer = 0; layer < config.nLayer; layer++) {
    const p = `h.${layer}`;
    const a = x.map((row) => refLayerNorm(row, vec(`${p}.ln_1.weight`), vec(`${p}.ln_1.bias`), eps));
    const qkv = a.map((row) => refConv1d(row, mat(`${p}.attn.c_attn.weight`), vec(`${p}.attn.c_attn.bias`)));
    const merged = qkv.map((): number[] => new Array<number>(d).fill(0));
    for (let h = 0; h < config.nHead; h++) {
      const q = (t: number) => qkv[t].slice(h * headDim, (h + 1) * headDim);
      const k = (t: number) => qkv[t].slice(d + h * headDim, d + (h + 1) * headDim);
      const v = (t: number) => qkv[t].slice(2 * d + h * headDim, 2 * d + (h + 1) * headDim);
      for (let i = 0; i < ids.length; i++) {
        // Causal: position i attends to 0..i.
        const scores = Array.from(
          { length: i + 1 },
          (_, j) => q(i).reduce((s, qv, c) => s + qv * k(j)[c], 0) / Math.sqrt(headDim),
        );
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((s, e) => s + e, 0);
        for (let j = 0; j <= i; j++) {
          v(j).forEach((value, c) => {
            merged[i][h * headDim + c] += (exps[j] / total) * value;
          });
        }
      }
    }
    const attn = merged.map((row) => refConv1d(row, mat(`${p}.attn.c_proj.weight`), vec(`${p}.attn.c_proj.bias`)));
    x = x.map((row, t) => row.map((v, i) => v + attn[t][i]));
    const m = x.map((row) => refLayerNorm(row, vec(`${p}.ln_2.weight`), vec(`${p}.ln_2.bias`), eps));
    const fc = m.map((row) => refConv1d(row, mat(`${p}.mlp.c_fc.weight`), vec(`${p}.mlp.c_fc.bias`)).map(refGelu));
    const out = fc.map((row) => refConv1d(row, mat(`${p}.mlp.c_proj.weight`), vec(`${p}.mlp.c_proj.bias`)));
    x = x.map((row, t) => row.map((v, i) => v + out[t][i]));
  }
  const hidden = x.map((row) => refLayerNorm(row, vec('ln_f.weight'), vec('ln_f.bias'), eps));
  const logits = hidden.map((row) => wte.map((embedding) => row.reduce((s, v, i) => s + v * embedding[i], 0)));
  return { hidden, logits };
}

/** Hand-chosen, irregular weights (no symmetry for a bug to hide behind). */
function handWeights(config: Gpt2Config): Map<string, ImportedTensor> {
  const tensors = new Map<string, ImportedTensor>();
  gpt2ParameterSpecs(config, { type: 'causal-lm' }).forEach((spec, index) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const wave = Math.sin(1.7 * i + 0.9 * index) * 0.6 + Math.cos(0.31 * i * (index + 1)) * 0.3;
      data[i] = spec.init === 'ones' ? 1 + wave * 0.3 : wave;
    }
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
  });
  return tensors;
}

function batch(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, undefined, 'int32');
}

describe('GPT-2', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  describe('parameters', () => {
    it('has exactly the Hugging Face GPT2Model names and shapes, in state-dict order', () => {
      const specs = gpt2ParameterSpecs(tiny, { type: 'causal-lm' });
      assert.deepEqual(
        specs.map((spec) => [spec.name, spec.shape]),
        HF_GPT2_TWO_LAYERS,
      );
    });

    it('adds score.weight (nn.Linear, no bias) for the sequence heads', () => {
      const classification = gpt2ParameterSpecs(tiny, { type: 'classification', numLabels: 3 });
      assert.deepEqual(classification.at(-1), {
        name: 'score.weight',
        shape: [3, 8],
        init: 'normal',
        std: 0.02,
        decay: true,
      });
      const regression = gpt2ParameterSpecs(tiny, { type: 'regression' });
      assert.deepEqual(regression.at(-1)?.shape, [1, 8]);
      assert.equal(regression.length, HF_GPT2_TWO_LAYERS.length + 1);
      assert.throws(() => gpt2ParameterSpecs(tiny, { type: 'classification', numLabels: 0 }), /numLabels/);
    });

    it('initialises like HF: N(0, 0.02), c_proj N(0, 0.02/sqrt(2 nLayer)), LayerNorm 1/0, biases 0; no decay on 1-D', () => {
      const specs = new Map(gpt2ParameterSpecs(tiny, { type: 'causal-lm' }).map((spec) => [spec.name, spec]));
      assert.equal(specs.get('wte.weight')?.std, 0.02);
      assert.equal(specs.get('h.1.attn.c_attn.weight')?.std, 0.02);
      assert.equal(specs.get('h.0.attn.c_proj.weight')?.std, 0.01);
      assert.equal(specs.get('h.1.mlp.c_proj.weight')?.std, 0.01);
      assert.equal(specs.get('h.0.ln_1.weight')?.init, 'ones');
      assert.equal(specs.get('ln_f.bias')?.init, 'zeros');
      assert.equal(specs.get('h.0.mlp.c_fc.bias')?.init, 'zeros');
      for (const spec of specs.values()) {
        assert.equal(spec.decay, spec.shape.length === 2, spec.name);
      }
      const wide = { ...tiny, nEmbd: 64, vocabSize: 200, nLayer: 8 };
      const params = exportParameters(initializeParameters(gpt2ParameterSpecs(wide, { type: 'causal-lm' }), 3));
      const std = (name: string) => {
        const data = params.get(name)?.data ?? new Float32Array();
        return Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
      };
      assert.ok(Math.abs(std('wte.weight') - 0.02) < 0.001);
      assert.ok(Math.abs(std('h.3.mlp.c_proj.weight') - 0.005) < 0.0003);
    });

    it('validates the config', () => {
      assert.throws(() => gpt2ParameterSpecs({ ...tiny, nHead: 3 }, { type: 'causal-lm' }), /not divisible/);
      assert.throws(() => gpt2ParameterSpecs({ ...tiny, nLayer: 0 }, { type: 'causal-lm' }), /nLayer/);
      assert.throws(() => gpt2ParameterSpecs({ ...tiny, dropout: 1 }, { type: 'causal-lm' }), /dropout/);
    });
  });

  describe('checkpoint names', () => {
    const hfLmHeadNames = [
      'transformer.wte.weight',
      'transformer.wpe.weight',
      ...HF_GPT2_TWO_LAYERS.slice(2, -2).map(([name]) => `transformer.${name}`),
      'transformer.h.0.attn.bias',
      'transformer.h.0.attn.masked_bias',
      'transformer.h.1.attn.bias',
      'transformer.ln_f.weight',
      'transformer.ln_f.bias',
      'lm_head.weight',
    ];

    it('strips transformer., drops the tied lm_head and the attention-mask buffers', () => {
      const { renamed, dropped } = normalizeGpt2StateDict(hfLmHeadNames);
      assert.deepEqual([...renamed.values()].sort(), HF_GPT2_TWO_LAYERS.map(([name]) => name).sort());
      assert.deepEqual(dropped.sort(), [
        'lm_head.weight',
        'transformer.h.0.attn.bias',
        'transformer.h.0.attn.masked_bias',
        'transformer.h.1.attn.bias',
      ]);
      assert.equal(renamed.get('transformer.h.1.mlp.c_fc.bias'), 'h.1.mlp.c_fc.bias');
      assert.deepEqual([...normalizeGpt2StateDict(['score.weight', 'h.0.attn.bias']).renamed.keys()], ['score.weight']);
      assert.throws(
        () => normalizeGpt2StateDict(['wte.weight', 'transformer.wte.weight']),
        /both wte\.weight and transformer\.wte\.weight/,
      );
    });

    it('infers the config from shapes and loads an HF-named checkpoint strictly', () => {
      const shapes = new Map<string, number[]>(
        HF_GPT2_TWO_LAYERS.map(([name, shape]) => [`transformer.${name}`, shape]),
      );
      shapes.set('lm_head.weight', [10, 8]);
      shapes.set('transformer.h.0.attn.bias', [1, 1, 6, 6]);
      assert.deepEqual(inferGpt2Config(shapes, { nHead: 2, dropout: 0.1 }), tiny);
      assert.throws(() => inferGpt2Config(shapes), /explicit nHead/);
      assert.equal(
        inferGpt2Config(
          new Map([...shapes, ['transformer.wte.weight', [10, 128]], ['transformer.wpe.weight', [6, 128]]]),
        ).nHead,
        2,
      );
      const gap = new Map([...shapes].filter(([name]) => !name.includes('.h.0.')));
      assert.throws(() => inferGpt2Config(gap, { nHead: 2 }), /no h\.0/);

      const checkpoint = new Map<string, ImportedTensor>(
        [...shapes].map(([name, shape]) => [
          name,
          { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
        ]),
      );
      const { params } = importParameters(
        gpt2ParameterSpecs(tiny, { type: 'causal-lm' }),
        normalizeGpt2Tensors(checkpoint),
        {
          strict: true,
        },
      );
      assert.equal(params.size, HF_GPT2_TWO_LAYERS.length);
    });
  });

  describe('forward', () => {
    it('matches an independent plain-JS GPT-2 on hand-chosen weights (1 layer, 2 tokens)', () => {
      const config: Gpt2Config = { ...tiny, vocabSize: 5, nPositions: 4, nEmbd: 4, nLayer: 1, nHead: 2 };
      const weights = handWeights(config);
      const { params } = importParameters(gpt2ParameterSpecs(config, { type: 'causal-lm' }), weights, { strict: true });
      const ids = [3, 1];
      const expected = referenceForward(
        new Map([...weights].map(([name, t]) => [name, { shape: [...t.shape], data: t.data }])),
        config,
        ids,
      );
      const hidden = gpt2Hidden(params, config, batch([ids]), { training: false });
      const logits = gpt2LmLogits(params, config, hidden);
      const got = values(hidden);
      expected.hidden
        .flat()
        .forEach((value, i) => assert.ok(Math.abs(got[i] - value) < 1e-5, `hidden[${i}] ${got[i]} vs ${value}`));
      const gotLogits = values(logits);
      expected.logits.flat().forEach((value, i) => assert.ok(Math.abs(gotLogits[i] - value) < 1e-4, `logit ${i}`));
      // The second token attends to the first, so it is not just a function of itself.
      assert.notDeepEqual(
        expected.hidden[1],
        referenceForward(new Map([...weights].map(([n, t]) => [n, { shape: [...t.shape], data: t.data }])), config, [1])
          .hidden[0],
      );
    });

    it('matches the plain-JS reference with 2 layers, 3 tokens and a batch of 2', () => {
      const config: Gpt2Config = { ...tiny, nLayer: 2 };
      const weights = handWeights(config);
      const plain = new Map([...weights].map(([name, t]) => [name, { shape: [...t.shape], data: t.data }]));
      const { params } = importParameters(gpt2ParameterSpecs(config, { type: 'causal-lm' }), weights, { strict: true });
      const rows = [
        [7, 2, 9],
        [0, 0, 5],
      ];
      const got = gpt2Hidden(params, config, batch(rows), { training: false }).arraySync();
      rows.forEach((ids, b) => {
        referenceForward(plain, config, ids).hidden.forEach((row, t) =>
          row.forEach((value, i) => assert.ok(Math.abs(got[b][t][i] - value) < 1e-4, `[${b},${t},${i}]`)),
        );
      });
    });

    it('is causal: changing a later token leaves earlier positions unchanged', () => {
      const params = initializeParameters(gpt2ParameterSpecs(tiny, { type: 'causal-lm' }), 1);
      const a = gpt2Hidden(params, tiny, batch([[1, 2, 3, 4, 5]]), { training: false });
      const b = gpt2Hidden(params, tiny, batch([[1, 2, 3, 9, 0]]), { training: false });
      const early = (t: tf.Tensor3D) => tf.slice(t, [0, 0, 0], [1, 3, 8]);
      assert.equal(maxDiff(early(a), early(b)), 0);
      assert.ok(maxDiff(tf.slice(a, [0, 3, 0], [1, 1, 8]), tf.slice(b, [0, 3, 0], [1, 1, 8])) > 1e-3);
    });

    it('has no dropout in eval and reproducible seeded dropout in training', () => {
      const params = initializeParameters(gpt2ParameterSpecs({ ...tiny, dropout: 0.5 }, { type: 'causal-lm' }), 1);
      const config = { ...tiny, dropout: 0.5 };
      const ids = batch([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ]);
      const evalA = gpt2Hidden(params, config, ids, { training: false });
      const evalB = gpt2Hidden(params, config, ids, { training: false, seed: 4 });
      assert.equal(maxDiff(evalA, evalB), 0);
      const trainA = gpt2Hidden(params, config, ids, { training: true, seed: 4 });
      const trainB = gpt2Hidden(params, config, ids, { training: true, seed: 4 });
      const trainC = gpt2Hidden(params, config, ids, { training: true, seed: 5 });
      assert.equal(maxDiff(trainA, trainB), 0);
      assert.ok(maxDiff(trainA, trainC) > 1e-3);
      assert.ok(maxDiff(trainA, evalA) > 1e-3);
    });

    it('rejects sequences longer than nPositions and non-int32 ids', () => {
      const params = initializeParameters(gpt2ParameterSpecs(tiny, { type: 'causal-lm' }), 1);
      assert.throws(
        () => gpt2Hidden(params, tiny, batch([[1, 2, 3, 4, 5, 6, 7]]), { training: false }),
        /outside 1\.\.6/,
      );
      assert.throws(() => gpt2Hidden(params, tiny, tf.tensor2d([[1, 2]]), { training: false }), /int32/);
    });

    it('poolLastToken picks each row at its length - 1', () => {
      const hidden = tf.tensor3d(
        Array.from({ length: 3 * 4 * 2 }, (_, i) => i),
        [3, 4, 2],
      );
      const pooled = poolLastToken(hidden, tf.tensor1d([1, 4, 2], 'int32'));
      assert.deepEqual(pooled.arraySync(), [
        [0, 1],
        [14, 15],
        [18, 19],
      ]);
      assert.throws(() => poolLastToken(hidden, tf.tensor1d([0, 1, 1], 'int32')), /length 0 of row 0/);
      assert.throws(() => poolLastToken(hidden, tf.tensor1d([5, 1, 1], 'int32')), /outside 1\.\.4/);
      assert.throws(() => poolLastToken(hidden, tf.tensor1d([1, 1], 'int32')), /2 lengths for a batch of 3/);
    });

    it('gives right-padded rows the same pooled state as unpadded ones', () => {
      const head = { type: 'classification', numLabels: 3 } as const;
      const params = initializeParameters(gpt2ParameterSpecs(tiny, head), 1);
      const padded = gpt2Hidden(params, tiny, batch([[4, 5, 6, 0, 0]]), { training: false });
      const alone = gpt2Hidden(params, tiny, batch([[4, 5, 6]]), { training: false });
      const a = gpt2HeadOutput(params, tiny, head, poolLastToken(padded, tf.tensor1d([3], 'int32')));
      const b = gpt2HeadOutput(params, tiny, head, poolLastToken(alone, tf.tensor1d([3], 'int32')));
      assert.deepEqual(a.shape, [1, 3]);
      assert.ok(maxDiff(a, b) < 1e-6);
    });

    it('sequence heads output [B, numLabels] and [B, 1]', () => {
      const pooled = tf.ones<tf.Rank.R2>([2, 8]);
      const regression = { type: 'regression' } as const;
      const params = initializeParameters(gpt2ParameterSpecs(tiny, regression), 1);
      assert.deepEqual(gpt2HeadOutput(params, tiny, regression, pooled).shape, [2, 1]);
      assert.throws(() => gpt2HeadOutput(params, tiny, { type: 'causal-lm' }, pooled), /gpt2LmLogits/);
    });
  });

  describe('causal LM loss', () => {
    it('is next-token cross-entropy over the masked targets', () => {
      const logits = tf.randomNormal<tf.Rank.R3>([2, 3, 10], 0, 1, 'float32', 1);
      const ids = batch([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const logProbs = tf.logSoftmax(logits).arraySync();
      const nll = (b: number, t: number, target: number) => -logProbs[b][t][target];
      const all = (nll(0, 0, 2) + nll(0, 1, 3) + nll(1, 0, 5) + nll(1, 1, 6)) / 4;
      assert.ok(Math.abs(causalLmLoss(logits, ids).dataSync()[0] - all) < 1e-5);
      // Mask out the prompt token 2 of row 0 and the padding token 6 of row 1.
      const mask = tf.tensor2d([
        [1, 0, 1],
        [1, 1, 0],
      ]);
      const masked = (nll(0, 1, 3) + nll(1, 0, 5)) / 2;
      assert.ok(Math.abs(causalLmLoss(logits, ids, { targetMask: mask }).dataSync()[0] - masked) < 1e-5);
    });
  });

  describe('training', () => {
    it('learns a repeating token pattern well below ln(vocab) in 50 Adam steps', () => {
      const config: Gpt2Config = {
        vocabSize: 50,
        nPositions: 16,
        nEmbd: 32,
        nLayer: 2,
        nHead: 2,
        layerNormEpsilon: 1e-5,
        dropout: 0.1,
      };
      const params = initializeParameters(gpt2ParameterSpecs(config, { type: 'causal-lm' }), 1);
      const rows = Array.from({ length: 8 }, (_, b) => Array.from({ length: 16 }, (__, t) => (b * 3 + 7 * t) % 50));
      const ids = batch(rows);
      const optimizer = tf.train.adam(1e-2);
      const variables = [...params.values()];
      const losses: number[] = [];
      for (let step = 0; step < 50; step++) {
        const cost = optimizer.minimize(
          () =>
            causalLmLoss(
              gpt2LmLogits(params, config, gpt2Hidden(params, config, ids, { training: true, seed: step })),
              ids,
            ),
          true,
          variables,
        );
        losses.push(cost?.dataSync()[0] ?? NaN);
        cost?.dispose();
      }
      assert.ok(Math.abs(losses[0] - Math.log(50)) < 0.2, `initial loss ${losses[0]}`);
      assert.ok(losses[49] < 0.5, `final loss ${losses[49]}`);
    });

    it('freezing leaves frozen parameters untouched while the head and top block learn', () => {
      const head = { type: 'classification', numLabels: 2 } as const;
      const params: ParameterMap = initializeParameters(gpt2ParameterSpecs(tiny, head), 2);
      const trainable = trainableParameterNames([...params.keys()], tiny, { type: 'freeze', trainableTopBlocks: 1 });
      const before = exportParameters(params);
      const ids = batch([
        [1, 2, 3],
        [3, 2, 1],
      ]);
      const labels = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2);
      const optimizer = tf.train.adam(1e-2);
      const variables = [...params].filter(([name]) => trainable.has(name)).map(([, variable]) => variable);
      for (let step = 0; step < 3; step++) {
        optimizer.minimize(
          () => {
            const hidden = gpt2Hidden(params, tiny, ids, { training: true, seed: step });
            const logits = gpt2HeadOutput(params, tiny, head, poolLastToken(hidden, tf.tensor1d([3, 3], 'int32')));
            return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(labels, logits);
          },
          false,
          variables,
        );
      }
      const after = exportParameters(params);
      for (const [name, tensor] of before) {
        const changed = (after.get(name)?.data ?? []).some((value, i) => value !== tensor.data[i]);
        assert.equal(changed, trainable.has(name), name);
      }
    });
  });

  describe('trainableParameterNames', () => {
    const twelve = { ...tiny, nLayer: 12 };
    const names = (head: 'causal-lm' | 'classification') =>
      gpt2ParameterSpecs(twelve, head === 'causal-lm' ? { type: head } : { type: head, numLabels: 2 }).map(
        (s) => s.name,
      );

    it('full trains everything', () => {
      assert.equal(
        trainableParameterNames(names('classification'), twelve, { type: 'full' }).size,
        names('classification').length,
      );
    });

    it('freeze: top blocks plus ln_f and the head; 0 blocks means only the head', () => {
      const top2 = trainableParameterNames(names('classification'), twelve, { type: 'freeze', trainableTopBlocks: 2 });
      assert.deepEqual(
        [...top2].map((name) => name.split('.').slice(0, 2).join('.')).filter((v, i, a) => a.indexOf(v) === i),
        ['h.10', 'h.11', 'ln_f.weight', 'ln_f.bias', 'score.weight'],
      );
      assert.equal(top2.size, 2 * 12 + 3);
      const headOnly = trainableParameterNames(names('classification'), twelve, {
        type: 'freeze',
        trainableTopBlocks: 0,
      });
      assert.deepEqual([...headOnly], ['score.weight']);
      assert.deepEqual(
        [...trainableParameterNames(names('classification'), twelve, { type: 'freeze' })],
        ['score.weight'],
      );
    });

    it('freeze: trainableLayers adds exact names and dotted prefixes without h.1 matching h.10', () => {
      const chosen = trainableParameterNames(names('causal-lm'), twelve, {
        type: 'freeze',
        trainableLayers: ['h.1', 'transformer.wte.weight', 'h.5.attn'],
      });
      assert.ok(chosen.has('wte.weight'));
      assert.ok(chosen.has('h.1.mlp.c_fc.weight'));
      assert.ok(!chosen.has('h.10.mlp.c_fc.weight'));
      assert.ok(chosen.has('h.5.attn.c_attn.bias'));
      assert.ok(!chosen.has('h.5.ln_1.weight'));
      assert.equal(chosen.size, 1 + 12 + 4);
    });

    it('causal LM: the tied head (wte) stays frozen unless listed', () => {
      const top1 = trainableParameterNames(names('causal-lm'), twelve, { type: 'freeze', trainableTopBlocks: 1 });
      assert.ok(!top1.has('wte.weight'));
      assert.ok(top1.has('ln_f.weight'));
      assert.throws(
        () => trainableParameterNames(names('causal-lm'), twelve, { type: 'freeze', trainableTopBlocks: 0 }),
        /nothing would train/,
      );
    });

    it('validates block counts and layer names', () => {
      assert.throws(
        () => trainableParameterNames(names('classification'), twelve, { type: 'freeze', trainableTopBlocks: 13 }),
        /trainableTopBlocks must be an integer in 0\.\.12, got 13/,
      );
      assert.throws(
        () => trainableParameterNames(names('classification'), twelve, { type: 'freeze', trainableTopBlocks: 1.5 }),
        /trainableTopBlocks/,
      );
      assert.throws(
        () =>
          trainableParameterNames(names('classification'), twelve, {
            type: 'freeze',
            trainableLayers: ['h.12', 'h.1.attn.q', 'h.0'],
          }),
        /match no parameter: h\.12, h\.1\.attn\.q$/,
      );
    });
  });
});
